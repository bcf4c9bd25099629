//! Running many futures with a bound on how many are in flight, on the caller's task.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::provider::ProviderError;

/// Runs `f` on every item with at most `limit` of the futures in flight at once, and
/// returns their results in the order of `items`, whatever order they finish in.
///
/// Errors keep the meaning of a sequential loop with `?`: the error returned is that of
/// the first item in input order that failed. Once one fails no further item is started;
/// the items before it still in flight are awaited (one of them may fail first in input
/// order), those after it are dropped, which cancels their requests.
///
/// The futures run on the caller's task (polled together, not spawned), so they may borrow
/// the context and the requests, and dropping the returned future cancels them all. (Not
/// `futures`' `buffered`: the AWS SDK builds `futures-util` without its `alloc` feature, and
/// turning it on would rebuild the whole SDK.)
pub async fn for_each_bounded<T, R, F, Fut>(
    items: impl IntoIterator<Item = T>,
    limit: usize,
    mut f: F,
) -> Result<Vec<R>, ProviderError>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<R, ProviderError>>,
{
    let limit = limit.max(1);
    let mut pending = items.into_iter().enumerate();
    let mut running: Vec<(usize, Pin<Box<Fut>>)> = Vec::new();
    let mut results: Vec<Option<R>> = Vec::new();
    // The lowest-indexed failure so far.
    let mut failed: Option<(usize, ProviderError)> = None;
    std::future::poll_fn(|task| loop {
        if failed.is_none() {
            while running.len() < limit {
                let Some((i, item)) = pending.next() else {
                    break;
                };
                results.push(None);
                running.push((i, Box::pin(f(item))));
            }
        }
        if running.is_empty() {
            return Poll::Ready(());
        }
        let mut finished = false;
        let mut k = 0;
        while k < running.len() {
            let (i, fut) = &mut running[k];
            let i = *i;
            match fut.as_mut().poll(task) {
                Poll::Pending => k += 1,
                Poll::Ready(result) => {
                    running.swap_remove(k);
                    finished = true;
                    match result {
                        Ok(r) => results[i] = Some(r),
                        Err(e) => {
                            if failed.as_ref().is_none_or(|(first, _)| i < *first) {
                                failed = Some((i, e));
                            }
                        }
                    }
                }
            }
        }
        if let Some((first, _)) = &failed {
            // What comes after the failure in input order can no longer matter.
            let first = *first;
            running.retain(|(i, _)| *i < first);
        }
        if !finished {
            return Poll::Pending;
        }
    })
    .await;
    match failed {
        Some((_, e)) => Err(e),
        // Every item was started and finished without error, so every slot is filled.
        None => Ok(results.into_iter().flatten().collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;
    use crate::provider::ErrorKind;

    #[tokio::test(start_paused = true)]
    async fn bounded_keeps_input_order_and_the_bound() {
        let in_flight = std::cell::Cell::new(0usize);
        let most = std::cell::Cell::new(0usize);
        let start = Instant::now();
        // Later items finish first: the answer is still in input order.
        let got = for_each_bounded(0..20u64, 8, |i| {
            let (in_flight, most) = (&in_flight, &most);
            async move {
                in_flight.set(in_flight.get() + 1);
                most.set(most.get().max(in_flight.get()));
                tokio::time::sleep(Duration::from_millis(100 - i)).await;
                in_flight.set(in_flight.get() - 1);
                Ok(i * 10)
            }
        })
        .await
        .unwrap();
        assert_eq!(got, (0..20).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(most.get(), 8, "at most the limit at once, and that many");
        // 20 items of at most 100 ms, 8 at a time: three rounds, not twenty.
        assert!(
            start.elapsed() <= Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
        let none: Vec<u8> = for_each_bounded(Vec::<u8>::new(), 8, |b| async move { Ok(b) })
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_returns_the_first_error_in_input_order_and_starts_nothing_after_it() {
        let started = std::cell::RefCell::new(Vec::new());
        // Item 3 fails at once, item 1 fails later: a sequential loop would have stopped at
        // item 1, so that is the error.
        let err = for_each_bounded(0..10u64, 4, |i| {
            started.borrow_mut().push(i);
            async move {
                match i {
                    1 => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err(ProviderError::new(ErrorKind::Fatal, "one"))
                    }
                    3 => Err(ProviderError::new(ErrorKind::Throttled, "three")),
                    _ => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        Ok(i)
                    }
                }
            }
        })
        .await
        .unwrap_err();
        assert_eq!((err.kind, err.message.as_str()), (ErrorKind::Fatal, "one"));
        assert_eq!(
            *started.borrow(),
            [0, 1, 2, 3],
            "nothing started after the failure"
        );
    }
}
