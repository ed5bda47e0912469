//! `GET /1.0/instances` and `/1.0/instances/{name}` (also on the legacy `/1.0/containers`).

use axum::extract::{OriginalUri, Path, State};
use lxd_api::instance::{InstanceFull, InstanceState};

use super::instance_url;
use super::store::{load, project_of, Loaded};
use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

fn legacy(uri: &OriginalUri) -> bool {
    uri.path().starts_with("/1.0/containers")
}

/// The `state` of a loaded instance (recursion 2 and `GET .../state`).
pub fn instance_state(inst: &Loaded) -> InstanceState {
    let status = inst.status();
    let usage = inst
        .init_pid
        .and_then(|_| crate::cgroups::usage(&inst.runtime_name()))
        .unwrap_or_default();
    InstanceState {
        status: status.text().to_string(),
        status_code: status.code(),
        disk: None,
        memory: lxd_api::instance::InstanceStateMemory {
            usage: usage.memory as i64,
            usage_peak: usage.memory_peak as i64,
            swap_usage: usage.swap as i64,
            swap_usage_peak: usage.swap_peak as i64,
        },
        network: inst.init_pid.map(|pid| {
            crate::instances::devices::network_state::read(
                pid,
                &inst.expanded_devices,
                &inst.row.config,
            )
            .unwrap_or_default()
        }),
        pid: inst.init_pid.map(i64::from).unwrap_or(0),
        processes: if inst.running() {
            usage.processes as i64
        } else {
            0
        },
        cpu: lxd_api::instance::InstanceStateCpu {
            usage: usage.cpu_ns as i64,
        },
    }
}

/// `GET /1.0/instances`: URLs, objects (recursion 1, no runtime state), or full objects with
/// state (recursion 2).
pub async fn get_instances(
    State(state): State<AppState>,
    uri: OriginalUri,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let mut names = state.db.read(|c| lxd_db::instances::names(c, &project))?;
    let legacy = legacy(&uri);
    let filter =
        super::filter::parse(params.get("filter").unwrap_or("")).map_err(ApiError::bad_request)?;
    if let Some(filter) = &filter {
        let mut kept = Vec::new();
        for n in names {
            let inst = load(&state, &project, &n)?;
            let json = serde_json::to_value(inst.to_api()).unwrap_or_default();
            if super::filter::matches(filter, &json) {
                kept.push(n);
            }
        }
        names = kept;
    }
    match params.recursion() {
        0 => Ok(ApiResponse::sync(
            names
                .iter()
                .map(|n| instance_url(n, &project, legacy))
                .collect::<Vec<_>>(),
        )),
        1 => {
            let list = names
                .iter()
                .map(|n| load(&state, &project, n).map(|i| i.to_api()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ApiResponse::sync(list))
        }
        _ => {
            let list = tokio::task::spawn_blocking(move || full_list(&state, &project, &names))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))??;
            Ok(ApiResponse::sync(list))
        }
    }
}

/// One instance with its state and snapshots, as recursion 2 lists it.
fn full(state: &AppState, project: &str, name: &str) -> Result<InstanceFull, ApiError> {
    let inst = load(state, project, name)?;
    Ok(InstanceFull {
        state: Some(instance_state(&inst)),
        snapshots: super::snapshots::list(state, project, name)?,
        backups: Vec::new(),
        instance: inst.to_api(),
    })
}

/// Containers below this many are gathered on one thread; above it, on one per core.
const PER_THREAD: usize = 32;

/// Recursion 2 for `names`, in their order: the state reads (cgroup files, each container's
/// network namespace) are independent per instance, so they run on every core.
fn full_list(
    state: &AppState,
    project: &str,
    names: &[String],
) -> Result<Vec<InstanceFull>, ApiError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    map_on_threads(names, cores, PER_THREAD, |n| full(state, project, n))?
}

/// `f` over `items` in order, on up to `max_threads` scoped threads with at least `per_thread`
/// items each; the first error (in item order) wins. `Err(panic)` if a worker panicked.
fn map_on_threads<T: Sync, R: Send, E: Send>(
    items: &[T],
    max_threads: usize,
    per_thread: usize,
    f: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Result<Vec<R>, E>, ApiError> {
    let threads = max_threads
        .min(items.len().div_ceil(per_thread.max(1)))
        .max(1);
    if threads == 1 {
        return Ok(items.iter().map(&f).collect());
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Result<Vec<_>, E>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        let mut first_error = None;
        for worker in workers {
            match worker.join() {
                Ok(Ok(part)) => out.extend(part),
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => return Err(ApiError::internal("instance state worker panicked")),
            }
        }
        Ok(first_error.map_or(Ok(out), Err))
    })
}

/// `GET /1.0/instances/{name}` (`?recursion=1`: with state, snapshots and backups)
pub async fn get_instance(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    let api = inst.to_api();
    let etag = api.writable();
    if params.recursion() > 0 {
        // `instance_get_full`: the instance with its state, snapshots and backups.
        let full = InstanceFull {
            state: Some(instance_state(&inst)),
            snapshots: super::snapshots::list(&state, &project, &name)?,
            backups: super::backups::records(&state, &inst),
            instance: api,
        };
        return Ok(ApiResponse::sync_etag(full, etag));
    }
    Ok(ApiResponse::sync_etag(api, etag))
}

/// `GET /1.0/instances/{name}/state`
pub async fn get_instance_state(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult {
    let project = project_of(&state, &params)?;
    let inst = load(&state, &project, &name)?;
    Ok(ApiResponse::sync(instance_state(&inst)))
}

#[cfg(test)]
mod tests {
    use super::map_on_threads;

    #[test]
    fn parallel_map_keeps_order_across_threads() {
        let items: Vec<u32> = (0..100).collect();
        let out = map_on_threads(&items, 4, 8, |n| {
            Ok::<_, String>((*n, std::thread::current().id()))
        })
        .unwrap()
        .unwrap();
        assert_eq!(out.iter().map(|(n, _)| *n).collect::<Vec<_>>(), items);
        let threads: std::collections::HashSet<_> = out.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            threads.len(),
            4,
            "100 items, 8 per thread at least, 4 threads at most"
        );
    }

    #[test]
    fn parallel_map_small_input_stays_on_the_caller() {
        let me = std::thread::current().id();
        let out = map_on_threads(&[1, 2, 3], 4, 32, |_| {
            Ok::<_, ()>(std::thread::current().id())
        })
        .unwrap()
        .unwrap();
        assert!(out.iter().all(|t| *t == me));
    }

    #[test]
    fn parallel_map_reports_the_first_error_in_item_order() {
        let items: Vec<u32> = (0..64).collect();
        let out = map_on_threads(&items, 2, 8, |n| match n {
            40 => Err("forty"),
            10 => Err("ten"),
            n => Ok(*n),
        })
        .unwrap();
        assert_eq!(out, Err("ten"));
    }
}
