//! Stopping without losing anything: on SIGTERM (or Ctrl-C) the server stops accepting
//! connections, lets the requests in flight finish (for at most `shutdown_grace_seconds`),
//! and the background workers end their current step: the outbox finishes the mail it is
//! sending and hands back the rest of its batch, so another instance sends it at once rather
//! than after the lease runs out.

use tokio::sync::watch;

/// Fires the shutdown, once.
pub struct Trigger(watch::Sender<bool>);

/// What a worker watches to know when to stop; cheap to clone.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

pub fn channel() -> (Trigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (Trigger(sender), Shutdown(receiver))
}

impl Trigger {
    pub fn fire(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the shutdown has been fired (at once if it already was).
    pub async fn requested(&self) {
        let mut receiver = self.0.clone();
        // An error means the trigger is gone without firing: that process is ending anyway.
        let _ = receiver.wait_for(|fired| *fired).await;
    }
}

/// Resolves at SIGTERM (what a supervisor or orchestrator sends) or Ctrl-C.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_watcher_sees_the_one_shutdown() {
        let (trigger, shutdown) = channel();
        let watcher = shutdown.clone();
        assert!(!watcher.is_requested());
        let waiting = tokio::spawn(async move { watcher.requested().await });
        trigger.fire();
        waiting.await.unwrap();
        assert!(shutdown.is_requested());
        // Asked again after the fact: at once.
        shutdown.requested().await;
    }
}
