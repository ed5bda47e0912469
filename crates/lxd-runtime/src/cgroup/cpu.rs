//! CPU arithmetic: LXD's `cgroup.ParseCPU` (shares and CFS quota from `limits.cpu.allowance` and
//! `limits.cpu.priority`) and the cpuset choice for `limits.cpu` (a count is balanced over the
//! least used CPUs, a set is pinned). Pure functions, no I/O.

use std::collections::BTreeMap;

use super::discover::Backend;

/// What `limits.cpu.allowance` and `limits.cpu.priority` come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuAllowance {
    /// `cpu.shares` (v1, default 1024) or `cpu.weight` (v2, default 100).
    pub shares: i64,
    /// CFS quota in µs, `-1` for none.
    pub quota: i64,
    /// CFS period in µs; `-1` on v2 when there is no quota.
    pub period: i64,
}

/// LXD's `ParseCPU`: shares = max_shares × percent − (10 − priority), never below 0; a time
/// allowance `Q ms/P ms` gives quota Q×1000 and period P×1000 with full shares.
pub fn parse_cpu_allowance(
    allowance: &str,
    priority: &str,
    backend: Backend,
) -> Result<CpuAllowance, String> {
    let max_shares: i64 = if backend == Backend::V2 { 100 } else { 1024 };
    let priority: i64 = if priority.is_empty() {
        10
    } else {
        priority
            .parse()
            .map_err(|_| format!("Invalid value for an integer {priority:?}"))?
    };
    let mut shares = -(10 - priority);
    let mut quota = -1;
    let mut period = if backend == Backend::V2 { -1 } else { 100_000 };
    if allowance.is_empty() {
        shares += max_shares;
    } else if let Some(pct) = allowance.strip_suffix('%') {
        let pct: i64 = pct
            .parse()
            .map_err(|_| format!("Invalid value: {allowance}"))?;
        shares += (max_shares as f64 / 100.0 * pct as f64) as i64;
    } else {
        let bad = || format!("Invalid allowance: {allowance}");
        let (q, p) = allowance.split_once('/').ok_or_else(bad)?;
        let ms = |s: &str| s.trim_end_matches("ms").parse::<i64>().map_err(|_| bad());
        quota = ms(q)? * 1000;
        period = ms(p)? * 1000;
        shares += max_shares;
    }
    Ok(CpuAllowance {
        shares: shares.max(0),
        quota,
        period,
    })
}

/// A `limits.cpu` value: a count to balance, or CPUs to pin to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpuLimit {
    Count(usize),
    Set(Vec<u32>),
}

/// Parse a cpuset (`0-3,7`) into sorted CPU ids, refusing duplicates as LXD does.
pub fn parse_cpuset(value: &str) -> Result<Vec<u32>, String> {
    let bad = || "Invalid CPU limit syntax".to_string();
    let mut cpus = Vec::new();
    for chunk in value.trim().split(',') {
        let (low, high) = match chunk.split_once('-') {
            Some((a, b)) => (a, b),
            None => (chunk, chunk),
        };
        let low: u32 = low.parse().map_err(|_| bad())?;
        let high: u32 = high.parse().map_err(|_| bad())?;
        if high < low {
            return Err(bad());
        }
        cpus.extend(low..=high);
    }
    cpus.sort_unstable();
    let before = cpus.len();
    cpus.dedup();
    if cpus.len() != before {
        return Err("Cannot define CPU multiple times".to_string());
    }
    Ok(cpus)
}

/// Parse `limits.cpu`: a plain number is a count, anything else a set.
pub fn parse_cpu_limit(value: &str) -> Result<CpuLimit, String> {
    match value.parse::<usize>() {
        Ok(n) => Ok(CpuLimit::Count(n)),
        Err(_) => parse_cpuset(value).map(CpuLimit::Set),
    }
}

/// The CPUs a container gets (LXD's `deviceTaskBalance`): pinned CPUs that are effective, or
/// the `count` least loaded effective CPUs (ties to the lower id). `load` counts containers per
/// CPU already placed. An empty limit means every effective CPU.
pub fn resolve_cpuset(limit: &str, effective: &[u32], load: &BTreeMap<u32, usize>) -> Vec<u32> {
    let mut out = match parse_cpu_limit(limit) {
        _ if limit.is_empty() => effective.to_vec(),
        Ok(CpuLimit::Set(set)) => set.into_iter().filter(|c| effective.contains(c)).collect(),
        Ok(CpuLimit::Count(n)) => {
            let mut ranked: Vec<u32> = effective.to_vec();
            ranked.sort_by_key(|c| (load.get(c).copied().unwrap_or(0), *c));
            ranked.truncate(n);
            ranked
        }
        Err(_) => Vec::new(),
    };
    out.sort_unstable();
    out
}

/// Render CPU ids as the comma list written to `cpuset.cpus`.
pub fn format_cpus(cpus: &[u32]) -> String {
    cpus.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_cpu_allowance_defaults_full_shares() {
        let v1 = parse_cpu_allowance("", "", Backend::V1).unwrap();
        assert_eq!((v1.shares, v1.quota, v1.period), (1024, -1, 100_000));
        let v2 = parse_cpu_allowance("", "", Backend::V2).unwrap();
        assert_eq!((v2.shares, v2.quota, v2.period), (100, -1, -1));
    }

    #[test]
    fn parse_cpu_allowance_percent_and_priority_lxd_formula() {
        let a = parse_cpu_allowance("50%", "5", Backend::V1).unwrap();
        assert_eq!((a.shares, a.quota), (512 - 5, -1));
        let b = parse_cpu_allowance("50%", "0", Backend::V2).unwrap();
        assert_eq!(b.shares, 40);
        let c = parse_cpu_allowance("0%", "0", Backend::V1).unwrap();
        assert_eq!(c.shares, 0);
    }

    #[test]
    fn parse_cpu_allowance_time_quota_in_microseconds() {
        let a = parse_cpu_allowance("25ms/100ms", "", Backend::V1).unwrap();
        assert_eq!((a.shares, a.quota, a.period), (1024, 25_000, 100_000));
        assert_eq!(
            parse_cpu_allowance("25ms", "", Backend::V1).unwrap_err(),
            "Invalid allowance: 25ms"
        );
    }

    #[test]
    fn parse_cpuset_duplicates_refused() {
        assert_eq!(parse_cpuset("0-3,7").unwrap(), [0, 1, 2, 3, 7]);
        assert_eq!(
            parse_cpuset("1-3,3").unwrap_err(),
            "Cannot define CPU multiple times"
        );
        assert_eq!(parse_cpuset("a").unwrap_err(), "Invalid CPU limit syntax");
    }

    #[test]
    fn resolve_cpuset_count_picks_least_loaded() {
        let load = BTreeMap::from([(0, 2), (1, 0), (2, 1), (3, 0)]);
        assert_eq!(resolve_cpuset("2", &[0, 1, 2, 3], &load), [1, 3]);
        assert_eq!(resolve_cpuset("9", &[0, 1], &load), [0, 1]);
        assert_eq!(resolve_cpuset("1,3,9", &[0, 1, 2, 3], &load), [1, 3]);
        assert_eq!(format_cpus(&resolve_cpuset("", &[0, 2], &load)), "0,2");
    }
}
