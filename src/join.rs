//! Independent requests at once: [`join_all`] waits for every future of a list (tokio's
//! `join!` does the same for a fixed set). Each future runs to its end, so a failure is
//! never half-reported; callers read the results in their own fixed order.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Runs `futures` concurrently on the current task; their outputs, in the given order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_together_and_keeps_the_order() {
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let waits = [30u64, 10, 20];
        let outputs = join_all(waits.iter().map(|ms| {
            let (running, most) = (&running, &most);
            async move {
                most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(*ms)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                *ms
            }
        }))
        .await;
        assert_eq!(outputs, waits);
        assert_eq!(most.load(Ordering::SeqCst), 3, "all three were in flight at once");
        assert!(join_all(Vec::<std::future::Ready<u8>>::new()).await.is_empty());
    }
}
