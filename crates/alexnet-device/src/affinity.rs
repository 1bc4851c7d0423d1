//! One CPU per compute thread, on Linux.
//!
//! Burn's CPU backends run every parallel operation on rayon's global pool, one worker per CPU.
//! Between two operations a worker sleeps, and when it is woken Linux places it on an idle CPU
//! if there is one. A CPU that runs another process, even one at `nice 19`, is not idle, so on
//! a busy machine the woken worker lands on the CPU of the worker that woke it: the two share
//! one CPU, and the niced process keeps the other, until the load balancer moves one of them.
//! A worker that may only run on its own CPU is placed there, and takes it back from the niced
//! process at once. Measurements: docs/performance.md, "On a busy machine".

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that turns pinning off (`0`) or on (`1`, the default).
pub const PIN_THREADS_ENV: &str = "ALEXNET_PIN_THREADS";

/// Starts rayon's global pool (the compute threads of Burn's CPU backends) with its default
/// number of threads and, when that is one per CPU this process may use, pins worker `i` to the
/// `i`-th of those CPUs. Returns the number of workers pinned: 0 when the pool keeps the
/// kernel's placement (another thread count, a system other than Linux, `ALEXNET_PIN_THREADS=0`,
/// or a refused call). Call it at the top of `main`, before anything uses rayon.
///
/// # Errors
/// The global pool was already started (pinning cannot apply to it), or its threads could not be
/// started.
pub fn start_pinned_workers() -> Result<usize, rayon::ThreadPoolBuildError> {
    let setting = std::env::var(PIN_THREADS_ENV).ok();
    let cpus = if pinning_wanted(setting.as_deref()) {
        imp::allowed_cpus()
    } else {
        Vec::new()
    };
    let pinned = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pinned);
    rayon::ThreadPoolBuilder::new()
        .start_handler(move |index| {
            let threads = rayon::current_num_threads();
            if threads == cpus.len() && imp::pin_current_thread(cpus[index]) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .build_global()?;
    // The handlers run as the workers start: wait until every one of them has reported.
    rayon::broadcast(|_| ());
    Ok(pinned.load(Ordering::Relaxed))
}

/// Whether [`PIN_THREADS_ENV`]'s value leaves pinning on (unset, or anything but `0`).
fn pinning_wanted(setting: Option<&str>) -> bool {
    setting.is_none_or(|v| v.trim() != "0")
}

/// The CPUs the calling thread may run on, in ascending order (empty where unknown).
pub fn allowed_cpus() -> Vec<usize> {
    imp::allowed_cpus()
}

#[cfg(target_os = "linux")]
mod imp {
    /// The calling thread's affinity mask (`sched_getaffinity`) as CPU numbers.
    #[allow(unsafe_code)]
    pub(super) fn allowed_cpus() -> Vec<usize> {
        // SAFETY: `cpu_set_t` is a plain bit array, valid when zeroed.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a writable `cpu_set_t` of `size` bytes that outlives the call; pid 0
        // is the calling thread.
        if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below `CPU_SETSIZE`, the number of bits in `set`.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }

    /// Restricts the calling thread to `cpu` (`sched_setaffinity`); whether the kernel agreed.
    #[allow(unsafe_code)]
    pub(super) fn pin_current_thread(cpu: usize) -> bool {
        if cpu >= libc::CPU_SETSIZE as usize {
            return false;
        }
        // SAFETY: `cpu_set_t` is a plain bit array, valid when zeroed.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `cpu` is below `CPU_SETSIZE` (checked above), so the bit lies inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is an initialised `cpu_set_t` of `size` bytes that outlives the call;
        // pid 0 is the calling thread; the kernel only reads it. It changes where the thread
        // runs, never what it computes.
        unsafe { libc::sched_setaffinity(0, size, &set) == 0 }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub(super) fn allowed_cpus() -> Vec<usize> {
        Vec::new()
    }

    pub(super) fn pin_current_thread(_cpu: usize) -> bool {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only_and_others_keep_their_mask() {
        let all = allowed_cpus();
        assert!(!all.is_empty(), "sched_getaffinity gave no CPU");
        let last = *all.last().expect("a CPU");
        let (mask, cpu) = std::thread::spawn(move || {
            assert!(imp::pin_current_thread(last), "sched_setaffinity refused");
            // SAFETY: sched_getcpu has no preconditions.
            #[allow(unsafe_code)]
            let cpu = unsafe { libc::sched_getcpu() };
            (allowed_cpus(), cpu)
        })
        .join()
        .expect("thread");
        assert_eq!(mask, vec![last]);
        assert_eq!(cpu, last as i32);
        assert_eq!(allowed_cpus(), all, "the pin leaked to another thread");
    }

    #[test]
    fn only_zero_turns_pinning_off() {
        assert!(pinning_wanted(None));
        assert!(pinning_wanted(Some("1")));
        assert!(!pinning_wanted(Some("0")));
        assert!(!pinning_wanted(Some(" 0\n")));
    }

    #[test]
    fn a_cpu_outside_the_set_is_refused() {
        let refused = std::thread::spawn(|| imp::pin_current_thread(libc::CPU_SETSIZE as usize))
            .join()
            .expect("thread");
        assert!(!refused);
    }
}
