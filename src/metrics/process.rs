//! What this process costs: CPU time (its own and its children's, e.g. ffmpeg) and peak RSS.

use std::time::Duration;

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    rusage_cpu(libc::RUSAGE_SELF)
}

/// CPU time of this process's children that have been waited for (e.g. ffmpeg after it ends).
pub fn children_cpu_time() -> Duration {
    rusage_cpu(libc::RUSAGE_CHILDREN)
}

fn rusage(who: libc::c_int) -> Option<libc::rusage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; it is zero-initialised either way.
    let rc = unsafe { libc::getrusage(who, ru.as_mut_ptr()) };
    // SAFETY: zero-initialised, and fully written on success.
    (rc == 0).then(|| unsafe { ru.assume_init() })
}

fn rusage_cpu(who: libc::c_int) -> Duration {
    let tv =
        |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    rusage(who)
        .map(|r| tv(r.ru_utime) + tv(r.ru_stime))
        .unwrap_or_default()
}

/// Peak resident set size of this process, in bytes.
pub fn peak_rss_bytes() -> u64 {
    rusage(libc::RUSAGE_SELF)
        .map(|r| r.ru_maxrss.max(0) as u64 * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn process_resources_are_measured() {
        // Busy work until the process's CPU time moves (black_box: the optimiser could otherwise
        // replace the loop with a formula); the kernel accounts CPU time in ticks.
        let before = cpu_time();
        let start = Instant::now();
        let mut x = 0u64;
        while cpu_time() <= before && start.elapsed() < Duration::from_secs(10) {
            for i in 0..1_000_000u64 {
                x = x.wrapping_add(std::hint::black_box(i) * i);
            }
        }
        std::hint::black_box(x);
        assert!(
            cpu_time() > before,
            "10 s of busy loop and no CPU time measured"
        );
        assert!(peak_rss_bytes() > 1 << 20, "peak RSS is at least 1 MiB");
    }
}
