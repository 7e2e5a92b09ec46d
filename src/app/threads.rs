//! How many worker threads simulate: the CPUs this process was given, never more, unless
//! `--threads` says otherwise.
//!
//! The standard library's `available_parallelism` already counts only the CPUs of the
//! process's affinity mask (`sched_getaffinity`: how Slurm's task/affinity plugin and cgroup
//! cpusets pin a job) and, on Linux, caps them by a cgroup CPU quota (`cpu.max` or
//! `cpu.cfs_quota_us`: how a Kubernetes CPU limit is enforced). `SLURM_CPUS_PER_TASK` bounds
//! the count further, because a Slurm site that neither pins nor confines its jobs leaves the
//! whole node visible to each of them.
//!
//! Results never depend on the count (see `Runner`); only the speed and the node's load do.

use std::num::NonZeroUsize;

/// Set by Slurm when a job asks for `--cpus-per-task`.
pub const SLURM_CPUS_PER_TASK: &str = "SLURM_CPUS_PER_TASK";

/// The worker thread count: `flag` if given; else the CPUs `available` to the process (its
/// affinity and cgroup quota), at most `slurm_cpus_per_task`; one when nothing is known.
/// A `SLURM_CPUS_PER_TASK` that is not a positive whole number bounds nothing.
pub fn worker_threads(
    flag: Option<u16>,
    slurm_cpus_per_task: Option<&str>,
    available: Option<NonZeroUsize>,
) -> NonZeroUsize {
    if let Some(threads) = flag.and_then(|threads| NonZeroUsize::new(usize::from(threads))) {
        return threads;
    }
    let slurm = slurm_cpus_per_task.and_then(|value| value.trim().parse::<NonZeroUsize>().ok());
    match (slurm, available) {
        (Some(slurm), Some(available)) => slurm.min(available),
        (Some(count), None) | (None, Some(count)) => count,
        (None, None) => NonZeroUsize::MIN,
    }
}

/// Builds the global rayon pool with [`worker_threads`] for this process's environment.
pub fn configure(flag: Option<u16>) {
    let slurm = std::env::var(SLURM_CPUS_PER_TASK).ok();
    let threads = worker_threads(flag, slurm.as_deref(), std::thread::available_parallelism().ok());
    // Fails only if a pool was already built (in-process callers): keep that one.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads.get()).build_global();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(count: usize) -> Option<NonZeroUsize> {
        NonZeroUsize::new(count)
    }

    #[test]
    fn the_flag_wins_over_everything() {
        assert_eq!(worker_threads(Some(8), Some("2"), n(4)).get(), 8);
        assert_eq!(worker_threads(Some(1), None, n(64)).get(), 1);
    }

    #[test]
    fn slurm_cpus_per_task_bounds_the_visible_cpus() {
        // An unpinned task on a 64-CPU node that asked for 4.
        assert_eq!(worker_threads(None, Some("4"), n(64)).get(), 4);
        // A pinned task sees its own CPUs already; the smaller bound holds.
        assert_eq!(worker_threads(None, Some("4"), n(2)).get(), 2);
        assert_eq!(worker_threads(None, Some(" 3\n"), None).get(), 3);
    }

    #[test]
    fn without_slurm_the_affinity_and_quota_decide() {
        assert_eq!(worker_threads(None, None, n(6)).get(), 6);
        assert_eq!(worker_threads(None, None, None).get(), 1, "nothing known: one thread");
    }

    #[test]
    fn a_malformed_slurm_value_bounds_nothing() {
        for value in ["", "0", "-2", "two", "2(x3)"] {
            assert_eq!(worker_threads(None, Some(value), n(6)).get(), 6, "{value:?}");
        }
    }

    /// The standard library's count is what the policy trusts for affinity and quota: it is
    /// never more than the CPUs the affinity mask allows.
    #[cfg(target_os = "linux")]
    #[test]
    fn available_parallelism_honours_the_affinity_mask() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let allowed = status
            .lines()
            .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
            .unwrap()
            .trim()
            .split(',')
            .map(|range| match range.split_once('-') {
                Some((low, high)) => high.parse::<usize>().unwrap() - low.parse::<usize>().unwrap() + 1,
                None => 1,
            })
            .sum::<usize>();
        let available = std::thread::available_parallelism().unwrap().get();
        assert!(available <= allowed, "{available} threads for {allowed} allowed CPUs");
    }
}
