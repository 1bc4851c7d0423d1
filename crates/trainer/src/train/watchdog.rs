//! A guard against a data-parallel run that cannot stop. In Burn's DDP every GPU's worker
//! all-reduces the gradients once per step; when one worker stops (an interrupt, the NaN guard,
//! a data error) while another has already begun its next step, that one waits in the
//! all-reduce for ever. Once a stop is requested, the watchdog gives the workers a grace period
//! to finish, then ends the process with the reason (the checkpoints are written at epoch ends,
//! so nothing is lost that a stop would have kept), giving the terminal back first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use burn::train::Interrupter;

/// How often the watchdog looks.
const POLL: Duration = Duration::from_millis(50);

/// Watches one training run until [`Watchdog::finish`].
pub struct Watchdog {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Calls `on_hang` if training has not finished `grace` after `interrupter` asked it to
    /// stop.
    pub fn start(
        interrupter: Interrupter,
        grace: Duration,
        on_hang: impl FnOnce() + Send + 'static,
    ) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let finished = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            let mut stop_seen: Option<Instant> = None;
            while !finished.load(Ordering::Acquire) {
                match stop_seen {
                    Some(at) if at.elapsed() >= grace => return on_hang(),
                    None if interrupter.should_stop() => stop_seen = Some(Instant::now()),
                    _ => {}
                }
                std::thread::sleep(POLL);
            }
        });
        Self {
            done,
            thread: Some(thread),
        }
    }

    /// Training returned: the watchdog ends without acting.
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Ends the process of a hung run: gives the terminal back first (`restore`: Burn's TUI may hold
/// it in raw mode on the alternate screen, and an exit runs no destructor), so the report lands
/// on the normal screen, then prints `err` and calls `exit` with its exit code.
pub fn exit_hung(
    err: &anyhow::Error,
    restore: impl FnOnce() -> std::io::Result<()>,
    exit: impl FnOnce(i32),
) {
    let restored = restore();
    let code = crate::cli::report(err);
    if let Err(e) = restored {
        eprintln!("(the terminal could not be restored: {e}; `reset` restores it)");
    }
    exit(code);
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::sync::mpsc;

    use super::*;

    /// What `exit_hung` did, in order, with `restore` succeeding or not.
    fn hung_exit(restore_ok: bool) -> Vec<String> {
        let steps = RefCell::new(Vec::new());
        exit_hung(
            &anyhow::anyhow!("a worker waits for ever"),
            || {
                steps.borrow_mut().push("restore".to_owned());
                if restore_ok {
                    Ok(())
                } else {
                    Err(std::io::Error::other("not a terminal"))
                }
            },
            |code| steps.borrow_mut().push(format!("exit {code}")),
        );
        steps.into_inner()
    }

    #[test]
    fn a_hung_run_gives_the_terminal_back_before_it_exits() {
        assert_eq!(hung_exit(true), ["restore", "exit 1"]);
    }

    #[test]
    fn a_hung_run_exits_even_when_the_terminal_cannot_be_restored() {
        assert_eq!(hung_exit(false), ["restore", "exit 1"]);
    }

    fn watch(grace_ms: u64) -> (Interrupter, Watchdog, mpsc::Receiver<()>) {
        let interrupter = Interrupter::new();
        let (fired, hang) = mpsc::channel();
        let dog = Watchdog::start(
            interrupter.clone(),
            Duration::from_millis(grace_ms),
            move || fired.send(()).expect("the test waits"),
        );
        (interrupter, dog, hang)
    }

    #[test]
    fn a_stopped_run_that_does_not_return_is_reported_after_the_grace() {
        let (interrupter, _dog, hang) = watch(200);
        std::thread::sleep(Duration::from_millis(300));
        assert!(hang.try_recv().is_err(), "no stop asked yet");
        let asked = Instant::now();
        interrupter.stop(Some("NaN"));
        hang.recv_timeout(Duration::from_secs(5)).expect("reported");
        assert!(asked.elapsed() >= Duration::from_millis(200));
    }

    #[test]
    fn a_run_that_returns_in_time_is_left_alone() {
        let (interrupter, dog, hang) = watch(300);
        interrupter.stop(None);
        std::thread::sleep(Duration::from_millis(100));
        dog.finish();
        assert!(hang.recv_timeout(Duration::from_millis(500)).is_err());
    }
}
