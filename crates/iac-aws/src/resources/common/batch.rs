//! Reading many objects of a type: describes in batches, and per-object calls kept
//! a bounded number in flight.

use std::collections::HashMap;
use std::future::Future;

use iac_engine::provider::{ErrorKind, ProviderError};

/// Describes `ids` in batches of `batch` with `describe` (one describe of the ids given,
/// all pages, keyed by id). One unknown id makes some APIs fail the whole call (ELB's
/// `LoadBalancerNotFound`, ECR's `RepositoryNotFoundException`), so a batch failing with
/// `NotFound` is redone one id at a time, and unknown ids are left out of the answer.
pub async fn describe_in_batches<T, F, Fut>(
    ids: &[String],
    batch: usize,
    describe: F,
) -> Result<HashMap<String, T>, ProviderError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, T>, ProviderError>>,
{
    let mut out = HashMap::new();
    for chunk in ids.chunks(batch) {
        match describe(chunk.to_vec()).await {
            Ok(found) => out.extend(found),
            Err(e) if e.kind == ErrorKind::NotFound => {
                for id in chunk {
                    match describe(vec![id.clone()]).await {
                        Ok(found) => out.extend(found),
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// How many per-resource read requests one type's read keeps in flight at once.
///
/// Some reads need one call per resource because the API has no batch form (IAM's
/// `GetRole`, the tags of a log group or repository, a target group's attributes). Sent one
/// after another, ten roles (two calls each) cost twenty round trips; eight at a time, four.
/// Eight keeps a type's read to a few round trips for a stack's usual counts without a
/// burst large enough to draw throttling (the plan reads every type at the same time).
pub const READ_CONCURRENCY: usize = 8;

pub use iac_engine::bounded::for_each_bounded;
