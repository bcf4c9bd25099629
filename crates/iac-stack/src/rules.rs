//! Checks that need the whole stack: the AWS rules that the API would only reject at apply
//! time, network consistency, and warnings about unsafe stacks.

use crate::{Diagnostics, Stack, StackGraph};

/// Run every rule, pushing errors and warnings into `diags`.
pub fn check(_stack: &Stack, _graph: &StackGraph, _diags: &mut Diagnostics) {}
