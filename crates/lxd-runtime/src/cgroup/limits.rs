//! `limits.*` config → cgroup file writes, for container start and for live updates.
//!
//! Pure: the host's hierarchies and facts (memory size, CPUs, interfaces) come in as values and
//! a list of [`CgroupWrite`]s comes out, so every rule is unit-tested without a kernel. Values
//! are validated first (LXD's texts); a refused value yields an error and no writes at all.
//! Formulas follow LXD (`driver_lxc.go` `initLXC`/`Update`, `cgroup/abstraction.go`), with the
//! swap rule as upstream later fixed it: `limits.memory.swap=false` forbids swap.

use std::collections::BTreeMap;

use lxd_shared::config::instance::check_instance_value;
use lxd_shared::config::values::parse_bool;
use lxd_shared::units::parse_byte_size;
use thiserror::Error;

use super::apply::CgroupWrite;
use super::cpu::{format_cpus, parse_cpu_allowance, parse_cpu_limit, resolve_cpuset};
use super::discover::{Backend, CgroupHost, Controller};
use super::usage::HostFacts;
use super::CgroupError;

/// The keys this module turns into cgroup writes.
pub const LIMIT_KEYS: &[&str] = &[
    "limits.cpu",
    "limits.cpu.allowance",
    "limits.cpu.priority",
    "limits.memory",
    "limits.memory.enforce",
    "limits.memory.swap",
    "limits.memory.swap.priority",
    "limits.processes",
    "limits.disk.priority",
    "limits.network.priority",
];

/// A refused limit value; the text is what LXD answers with a 400.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Invalid config: {reason}")]
pub struct LimitError {
    pub key: String,
    pub reason: String,
}

/// Check one limit value with LXD's rules (the shared instance checks plus LXD's extra ones:
/// zero memory, CPUs listed twice, a negative process count).
pub fn check_limit_value(key: &str, value: &str) -> Result<(), LimitError> {
    let refuse = |reason: String| LimitError {
        key: key.to_string(),
        reason,
    };
    check_instance_value(key, value).map_err(|e| refuse(e.to_string()))?;
    match key {
        "limits.memory"
            if value
                .strip_suffix('%')
                .is_some_and(|p| p.parse() == Ok(0u64)) =>
        {
            Err(refuse("Memory limit can't be 0%".into()))
        }
        "limits.memory" if parse_byte_size(value) == Ok(0) => {
            Err(refuse("Memory limit can't be 0".into()))
        }
        "limits.cpu" if !value.is_empty() => parse_cpu_limit(value).map(|_| ()).map_err(refuse),
        "limits.processes" if value.parse::<i64>().is_ok_and(|n| n < 0) => {
            Err(refuse(format!("Invalid value for an integer {value:?}")))
        }
        _ => Ok(()),
    }
}

fn validate(config: &BTreeMap<String, String>) -> Result<(), LimitError> {
    LIMIT_KEYS
        .iter()
        .try_for_each(|key| match config.get(*key) {
            Some(value) => check_limit_value(key, value),
            None => Ok(()),
        })
}

/// A non-empty config value.
fn get<'a>(config: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// `limits.memory` in bytes: a size, or a percentage of the host's memory (LXD: total/100×p).
fn memory_bytes(value: &str, facts: &HostFacts) -> u64 {
    match value.strip_suffix('%') {
        Some(pct) => (facts.mem_total / 100) * pct.parse::<u64>().unwrap_or(0),
        None => parse_byte_size(value).unwrap_or(0),
    }
}

struct Planner<'a> {
    host: &'a CgroupHost,
    facts: &'a HostFacts,
    config: &'a BTreeMap<String, String>,
    out: Vec<CgroupWrite>,
}

impl Planner<'_> {
    fn push(&mut self, controller: Controller, file: &str, value: impl ToString) {
        self.out.push(CgroupWrite::new(controller, file, value));
    }

    fn v1(&self, controller: Controller) -> bool {
        self.host.backend(controller) == Some(Backend::V1)
    }

    /// The hard/soft limit and swap writes for a set `limits.memory`.
    fn memory_limit(&mut self) {
        let Some(value) = get(self.config, "limits.memory") else {
            return;
        };
        let bytes = memory_bytes(value, self.facts);
        let v1 = self.v1(Controller::Memory);
        let m = Controller::Memory;
        if get(self.config, "limits.memory.enforce") == Some("soft") {
            let file = if v1 {
                "memory.soft_limit_in_bytes"
            } else {
                "memory.high"
            };
            self.push(m, file, bytes);
            return;
        }
        self.push(
            m,
            if v1 {
                "memory.limit_in_bytes"
            } else {
                "memory.max"
            },
            bytes,
        );
        if self.host.features.memory_swap {
            let no_swap =
                get(self.config, "limits.memory.swap").and_then(parse_bool) == Some(false);
            let swap = if no_swap { 0 } else { bytes };
            match v1 {
                true => self.push(m, "memory.memsw.limit_in_bytes", bytes + swap),
                false => self.push(m, "memory.swap.max", swap),
            }
        }
        if v1 {
            self.push(m, "memory.soft_limit_in_bytes", (bytes as f64 * 0.9) as u64);
        }
    }

    /// `memory.swappiness` (v1): 0 without swap, else 70 − priority (priority 10 → 60).
    fn swappiness(&mut self, live: bool) {
        if !self.host.features.memory_swappiness {
            return;
        }
        let swap = get(self.config, "limits.memory.swap").and_then(parse_bool);
        let priority = get(self.config, "limits.memory.swap.priority");
        let value = match (swap, priority) {
            (Some(false), _) => 0,
            (_, Some(p)) => 70 - p.parse::<i64>().unwrap_or(10),
            (_, None) if live => 60,
            _ => return,
        };
        self.push(Controller::Memory, "memory.swappiness", value);
    }

    fn memory_reset(&mut self) {
        let m = Controller::Memory;
        if self.v1(m) {
            if self.host.features.memory_swap {
                self.push(m, "memory.memsw.limit_in_bytes", -1);
            }
            self.push(m, "memory.limit_in_bytes", -1);
            self.push(m, "memory.soft_limit_in_bytes", -1);
        } else {
            if self.host.features.memory_swap {
                self.push(m, "memory.swap.max", "max");
            }
            self.push(m, "memory.max", "max");
            self.push(m, "memory.high", "max");
        }
    }

    fn cpu(&mut self, live: bool) {
        let Some(backend) = self.host.backend(Controller::Cpu) else {
            return;
        };
        let allowance = get(self.config, "limits.cpu.allowance").unwrap_or("");
        let priority = get(self.config, "limits.cpu.priority").unwrap_or("");
        if !live && allowance.is_empty() && priority.is_empty() {
            return;
        }
        // Validated already; an error here cannot happen.
        let Ok(cpu) = parse_cpu_allowance(allowance, priority, backend) else {
            return;
        };
        let c = Controller::Cpu;
        let v1 = backend == Backend::V1;
        if live || cpu.shares != 1024 {
            self.push(c, if v1 { "cpu.shares" } else { "cpu.weight" }, cpu.shares);
        }
        if !live && (cpu.quota == -1 || cpu.period == -1) {
            return;
        }
        if v1 {
            self.push(c, "cpu.cfs_quota_us", cpu.quota);
            self.push(c, "cpu.cfs_period_us", cpu.period);
        } else if cpu.quota == -1 {
            self.push(c, "cpu.max", "max");
        } else {
            self.push(c, "cpu.max", format!("{} {}", cpu.quota, cpu.period));
        }
    }

    fn cpuset(&mut self) {
        if self.host.backend(Controller::Cpuset).is_none() {
            return;
        }
        let limit = get(self.config, "limits.cpu").unwrap_or("");
        let cpus = resolve_cpuset(limit, &self.facts.effective_cpus, &self.facts.cpu_load);
        if !cpus.is_empty() {
            self.push(Controller::Cpuset, "cpuset.cpus", format_cpus(&cpus));
        }
    }

    fn disk(&mut self, live: bool) -> Result<(), CgroupError> {
        let value = match get(self.config, "limits.disk.priority") {
            Some(v) => v,
            None if live => "5",
            None => return Ok(()),
        };
        if live && self.host.backend(Controller::Blkio).is_none() {
            return Ok(());
        }
        let Some(file) = self.host.features.blkio_weight_file else {
            return Err(CgroupError::ControllerMissing {
                key: "limits.disk.priority",
                what: "blkio.weight",
            });
        };
        // Weight = priority × 100; the minimum valid weight is 10.
        let weight = (value.parse::<u64>().unwrap_or(5) * 100).max(10);
        self.push(Controller::Blkio, file, weight);
        Ok(())
    }

    fn processes(&mut self, live: bool) {
        if self.host.backend(Controller::Pids).is_none() {
            return;
        }
        match get(self.config, "limits.processes") {
            Some(n) => self.push(Controller::Pids, "pids.max", n),
            None if live => self.push(Controller::Pids, "pids.max", "max"),
            None => {}
        }
    }

    fn network(&mut self, live: bool) {
        if self.host.backend(Controller::NetPrio).is_none() {
            return;
        }
        let priority = match get(self.config, "limits.network.priority") {
            Some(p) => p,
            None if live => "0",
            None => return,
        };
        for iface in &self.facts.interfaces {
            self.out.push(CgroupWrite::new(
                Controller::NetPrio,
                "net_prio.ifpriomap",
                format!("{iface} {priority}"),
            ));
        }
    }
}

/// Every write that applies `config`'s limits to a freshly created cgroup (container start).
pub fn plan_limits(
    config: &BTreeMap<String, String>,
    host: &CgroupHost,
    facts: &HostFacts,
) -> Result<Vec<CgroupWrite>, CgroupError> {
    validate(config)?;
    let mut p = Planner {
        host,
        facts,
        config,
        out: Vec::new(),
    };
    if host.backend(Controller::Memory).is_some() {
        p.memory_limit();
        p.swappiness(false);
    }
    p.cpu(false);
    p.disk(false)?;
    p.processes(false);
    if get(config, "limits.cpu").is_some() {
        p.cpuset();
    }
    p.network(false);
    Ok(p.out)
}

/// The writes that move a running container from `old` to `new` limits: only the groups of
/// keys that changed are rewritten (memory is reset first so the v1 ordering rules hold).
pub fn plan_limits_update(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    host: &CgroupHost,
    facts: &HostFacts,
) -> Result<Vec<CgroupWrite>, CgroupError> {
    validate(new)?;
    let changed = |key: &str| get(old, key) != get(new, key);
    let mut p = Planner {
        host,
        facts,
        config: new,
        out: Vec::new(),
    };
    let memory_keys = LIMIT_KEYS.iter().filter(|k| k.starts_with("limits.memory"));
    if memory_keys.clone().any(|k| changed(k)) && host.backend(Controller::Memory).is_some() {
        p.memory_reset();
        p.memory_limit();
        if changed("limits.memory.swap") || changed("limits.memory.swap.priority") {
            p.swappiness(true);
        }
    }
    if changed("limits.cpu.allowance") || changed("limits.cpu.priority") {
        p.cpu(true);
    }
    if changed("limits.disk.priority") {
        p.disk(true)?;
    }
    if changed("limits.processes") {
        p.processes(true);
    }
    if changed("limits.cpu") {
        p.cpuset();
    }
    if changed("limits.network.priority") {
        p.network(true);
    }
    Ok(p.out)
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
