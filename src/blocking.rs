//! Blocking work (git, a question at the terminal) inside the async runtime.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `work`, which blocks; inside the multi-threaded runtime the runtime first moves its
/// other tasks off this thread, so they go on meanwhile. Elsewhere it just runs.
pub fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}
