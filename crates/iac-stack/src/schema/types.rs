//! The v1 resource types. The helper that fills this table in keeps it the single source.

use super::*;

pub static TYPES: &[TypeSchema] = &[];
