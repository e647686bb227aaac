//! CPU time and resident memory of a process, from /proc.

use crate::error::{BenchError, Result};

/// Clock ticks a second of /proc/<pid>/stat's utime and stime.
fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// utime + stime in ticks, from the text of /proc/<pid>/stat.
pub fn parse_stat_ticks(stat: &str) -> Result<u64> {
    // The command name is in parentheses and may hold spaces: fields are
    // counted from the last ')'. utime and stime are fields 14 and 15.
    let after = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| BenchError::Proc("no ')' in stat".into()))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state).
    let get = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| BenchError::Proc(format!("stat field {n} missing")))
    };
    Ok(get(14)? + get(15)?)
}

/// CPU seconds (user + system) used by `pid` so far; `None` means this process.
pub fn cpu_seconds(pid: Option<u32>) -> Result<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat =
        std::fs::read_to_string(&path).map_err(|e| BenchError::Proc(format!("{path}: {e}")))?;
    Ok(parse_stat_ticks(&stat)? as f64 / ticks_per_second())
}

/// Busy ticks of all cores together, from the text of /proc/stat (its
/// first line: user nice system idle iowait irq softirq steal ...).
pub fn parse_machine_busy_ticks(stat: &str) -> Result<u64> {
    let line = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .ok_or_else(|| BenchError::Proc("no cpu line in /proc/stat".into()))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    if v.len() < 5 {
        return Err(BenchError::Proc("short cpu line in /proc/stat".into()));
    }
    let total: u64 = v.iter().sum();
    Ok(total - v[3] - v[4])
}

/// CPU seconds all processes on the machine have used so far.
pub fn machine_busy_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat")
        .map_err(|e| BenchError::Proc(format!("/proc/stat: {e}")))?;
    Ok(parse_machine_busy_ticks(&stat)? as f64 / ticks_per_second())
}

/// Resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    /// The peak resident size over the process's life.
    pub hwm_kib: u64,
}

/// VmRSS and VmHWM from the text of /proc/<pid>/status.
pub fn parse_status_memory(status: &str) -> Result<Memory> {
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| BenchError::Proc(format!("{name} missing in status")))
    };
    Ok(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

pub fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let status =
        std::fs::read_to_string(&path).map_err(|e| BenchError::Proc(format!("{path}: {e}")))?;
    parse_status_memory(&status)
}

/// Before/after readings of one measured point.
#[derive(Debug, Clone, Copy)]
pub struct CpuMeter {
    server_pid: u32,
    server_start: f64,
    own_start: f64,
    machine_start: f64,
    wall_start: std::time::Instant,
}

/// What a point cost: server CPU seconds, the generator's share of its core.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUse {
    pub server_secs: f64,
    pub own_secs: f64,
    pub wall_secs: f64,
    /// CPU seconds used by every other process on the machine meanwhile
    /// (another build, say): a disturbed measurement.
    pub others_secs: f64,
}

impl CpuUse {
    /// The generator's CPU over wall time (1.0 = its whole core).
    pub fn own_share(&self) -> f64 {
        if self.wall_secs > 0.0 {
            self.own_secs / self.wall_secs
        } else {
            0.0
        }
    }

    /// Other processes' CPU over wall time (1.0 = a whole core).
    pub fn others_share(&self) -> f64 {
        if self.wall_secs > 0.0 {
            (self.others_secs / self.wall_secs).max(0.0)
        } else {
            0.0
        }
    }
}

impl CpuMeter {
    pub fn start(server_pid: u32) -> Result<Self> {
        Ok(CpuMeter {
            server_pid,
            server_start: cpu_seconds(Some(server_pid))?,
            own_start: cpu_seconds(None)?,
            machine_start: machine_busy_seconds()?,
            wall_start: std::time::Instant::now(),
        })
    }

    pub fn stop(&self) -> Result<CpuUse> {
        let server_secs = cpu_seconds(Some(self.server_pid))? - self.server_start;
        let own_secs = cpu_seconds(None)? - self.own_start;
        let machine = machine_busy_seconds()? - self.machine_start;
        Ok(CpuUse {
            server_secs,
            own_secs,
            wall_secs: self.wall_start.elapsed().as_secs_f64(),
            others_secs: machine - server_secs - own_secs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_read_past_a_command_name_with_spaces() {
        let stat =
            "1234 (tokio (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_stat_ticks(stat).unwrap(), 300);
        assert!(parse_stat_ticks("1234 (x) S 1").is_err());
    }

    #[test]
    fn vmrss_and_vmhwm_are_read_in_kib() {
        let status = "Name:\tconfab\nVmHWM:\t  51200 kB\nVmRSS:\t   40960 kB\nThreads:\t3\n";
        assert_eq!(
            parse_status_memory(status).unwrap(),
            Memory {
                rss_kib: 40960,
                hwm_kib: 51200
            }
        );
        assert!(parse_status_memory("Name:\tx\n").is_err());
    }

    #[test]
    fn machine_busy_time_leaves_out_idle_and_iowait() {
        let stat = "cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 50 0 25 500 10 1 1 0 0 0\n";
        assert_eq!(parse_machine_busy_ticks(stat).unwrap(), 160);
        assert!(parse_machine_busy_ticks("intr 1 2 3").is_err());
    }

    #[test]
    fn this_process_can_be_measured() {
        assert!(cpu_seconds(None).unwrap() >= 0.0);
        assert!(memory(std::process::id()).unwrap().rss_kib > 0);
    }
}
