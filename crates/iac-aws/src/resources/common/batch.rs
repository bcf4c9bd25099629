//! Reading many objects of a type: every page of a paginated call, describes in batches,
//! and per-object calls kept a bounded number in flight.

use std::collections::HashMap;
use std::future::Future;

use iac_engine::provider::{ErrorKind, ProviderError, ReadRequest};

/// The physical ids of `requests`, in their order: what a read describes.
pub fn physical_ids(requests: &[ReadRequest]) -> Vec<String> {
    requests.iter().map(|r| r.physical_id.clone()).collect()
}

/// The answers of `call` for `ids` in chunks of at most `batch` (the most one request
/// takes), one request after another in the order of `ids`, gathered into one collection
/// (a `Vec`, or a map by id). A failure ends it.
///
/// The one loop of the provider over an API's batch limit: each caller only says how to
/// send one chunk and read its answer.
pub async fn in_chunks<C, I, F, Fut>(
    ids: &[String],
    batch: usize,
    mut call: F,
) -> Result<C, ProviderError>
where
    C: Default + Extend<I::Item>,
    I: IntoIterator,
    F: FnMut(Vec<String>) -> Fut,
    Fut: Future<Output = Result<I, ProviderError>>,
{
    let mut out = C::default();
    for chunk in ids.chunks(batch) {
        out.extend(call(chunk.to_vec()).await?);
    }
    Ok(out)
}

/// Describes `ids` in batches of `batch` with `describe` (one describe of the ids given,
/// all pages, keyed by id), through [`in_chunks`]. One unknown id makes some APIs fail the
/// whole call (ELB's `LoadBalancerNotFound`, ECR's `RepositoryNotFoundException`), so a
/// batch failing with `NotFound` is redone one id at a time, and unknown ids are left out
/// of the answer.
pub async fn describe_in_batches<T, F, Fut>(
    ids: &[String],
    batch: usize,
    describe: F,
) -> Result<HashMap<String, T>, ProviderError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<HashMap<String, T>, ProviderError>>,
{
    let describe = &describe;
    in_chunks(ids, batch, |chunk| async move {
        match describe(chunk.clone()).await {
            Err(e) if e.kind == ErrorKind::NotFound => {
                let mut out = HashMap::new();
                for id in chunk {
                    match describe(vec![id]).await {
                        Ok(found) => out.extend(found),
                        Err(e) if e.kind == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(out)
            }
            other => other,
        }
    })
    .await
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

/// Every item of a paginated call, all pages: `page(token)` sends one request with the
/// token of the page to read (`None`: the first) and returns that page's items and the
/// token of the next. An absent or empty next token ends it (services differ in which
/// they send on the last page).
///
/// The one pagination loop of the provider, whatever the service calls its token (`Marker`,
/// `NextToken`): each caller only says how to send one page and read it.
pub async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, ProviderError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), ProviderError>>,
{
    all_pages_by(|token| {
        let sent = page(token);
        async move {
            let (items, next) = sent.await?;
            Ok((items, next.filter(|t| !t.is_empty())))
        }
    })
    .await
}

/// [`all_pages`] for a token of several parts (Route 53 starts a page at a record name,
/// type and identifier): `None` as the next token ends it.
pub async fn all_pages_by<T, K, F, Fut>(mut page: F) -> Result<Vec<T>, ProviderError>
where
    F: FnMut(Option<K>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<K>), ProviderError>>,
{
    let mut out = Vec::new();
    let mut token: Option<K> = None;
    loop {
        let (items, next) = page(token.take()).await?;
        out.extend(items);
        match next {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// IAM's next page token: its `Marker`, which IAM sends only with `IsTruncated`; one
/// without it ends the list.
pub fn iam_next_marker(marker: Option<&str>, truncated: bool) -> Option<String> {
    marker.filter(|_| truncated).map(str::to_owned)
}

/// Every item of a paginated SDK call, all pages, through [`all_pages`]:
/// `paged!(cx, Ec2, "DescribeVpcs", request, vpcs)` sends
/// `request` (the call's builder, without its token; built again for each page) with the
/// token set by `set_next_token`, reads the next token with `next_token` and the page's
/// items with `vpcs`, and maps a failure with `cx.err(Service::Ec2, "DescribeVpcs")`.
/// Without the two token methods, `set_next_token` and `next_token`: most services' names.
macro_rules! paged {
    ($cx:expr, $service:ident, $op:literal, $request:expr, $items:ident) => {
        $crate::resources::common::paged!(
            $cx,
            $service,
            $op,
            $request,
            set_next_token,
            next_token,
            $items
        )
    };
    ($cx:expr, $service:ident, $op:literal, $request:expr, $set:ident, $next:ident, $items:ident) => {
        $crate::resources::common::all_pages(|token| {
            let page = $request.$set(token);
            async move {
                let resp = page
                    .send()
                    .await
                    .map_err($cx.err($crate::Service::$service, $op))?;
                Ok((resp.$items().to_vec(), resp.$next().map(str::to_owned)))
            }
        })
    };
}
pub(crate) use paged;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn all_pages_follows_the_token_until_it_is_absent_or_empty() {
        let mut asked = Vec::new();
        let items = all_pages(|token| {
            asked.push(token.clone());
            async move {
                Ok(match token.as_deref() {
                    None => (vec![1, 2], Some("a".to_owned())),
                    Some("a") => (vec![3], Some("b".to_owned())),
                    _ => (vec![4], Some(String::new())),
                })
            }
        })
        .await
        .unwrap();
        assert_eq!(items, [1, 2, 3, 4]);
        assert_eq!(asked, [None, Some("a".to_owned()), Some("b".to_owned())]);

        let err = all_pages(|_| async {
            Err::<(Vec<()>, _), _>(ProviderError::new(ErrorKind::Fatal, "denied"))
        })
        .await
        .unwrap_err();
        assert_eq!(err.message, "denied");
    }
}
