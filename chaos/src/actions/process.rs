//! Signals to local processes, found by pid file or by a pattern over their
//! command lines (Linux `/proc`). The runner never signals itself or pid 1.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use nix::{
    errno::Errno,
    sys::signal::{kill, Signal},
    unistd::Pid,
};
use rand::seq::SliceRandom;
use regex::Regex;
use serde_json::{json, Value};

use super::UndoState;
use crate::{
    experiment::{ProcessSignal, Targets},
    runner::Context,
    Error, Result,
};

/// Whether the signal freezes the process (undone by SIGCONT).
pub(crate) fn is_stop(signal: &str) -> bool {
    matches!(parse(signal), Ok(Signal::SIGSTOP))
}

/// Whether the signal kills the process the way a crash would, so that
/// its undo waits for whatever supervises it (a kubelet, systemd, the game
/// day) to start the replacement.
pub(crate) fn is_kill(signal: &str) -> bool {
    matches!(parse(signal), Ok(Signal::SIGKILL))
}

fn parse(name: &str) -> Result<Signal> {
    let upper = name.to_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    match full.as_str() {
        "SIGTERM" => Ok(Signal::SIGTERM),
        "SIGKILL" => Ok(Signal::SIGKILL),
        "SIGINT" => Ok(Signal::SIGINT),
        "SIGHUP" => Ok(Signal::SIGHUP),
        "SIGSTOP" => Ok(Signal::SIGSTOP),
        _ => Err(Error::Api(format!("signal {name} is not allowed"))),
    }
}

pub(crate) async fn signal(ctx: &Context, action: &str, spec: &ProcessSignal) -> Result<Value> {
    let signal = parse(&spec.signal)?;
    let matched = match (&spec.pid_file, &spec.pattern) {
        (Some(file), None) => vec![read_pid_file(file)?],
        (None, Some(pattern)) => find_by_pattern(pattern)?,
        _ => {
            return Err(Error::Api(
                "give exactly one of pid_file and pattern".into(),
            ))
        }
    };
    let chosen = choose(&matched, spec.targets, ctx.blast_radius().max_targets)?;
    if chosen.is_empty() {
        return Err(Error::Api(format!(
            "no process matched {}",
            spec.pattern
                .as_deref()
                .map(|p| format!("/{p}/"))
                .unwrap_or_else(|| "the pid file".into())
        )));
    }
    for pid in &chosen {
        kill(Pid::from_raw(*pid), signal)
            .map_err(|e| Error::Api(format!("sending {signal} to {pid}: {e}")))?;
    }
    if signal == Signal::SIGSTOP {
        ctx.remember(
            action,
            UndoState::Stopped {
                pids: chosen.clone(),
            },
        );
    }
    if let (Signal::SIGKILL, Some(file)) = (signal, &spec.pid_file) {
        ctx.remember(
            action,
            UndoState::Replaced {
                pid_file: file.clone(),
                killed: chosen.clone(),
            },
        );
    }
    let mut output = json!({
        "signal": signal.as_str(),
        "matched": matched,
        "signalled": chosen,
    });
    if let Some(wait) = spec.wait_exit_seconds {
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(wait);
        let mut running: Vec<i32> = chosen.clone();
        while !running.is_empty() && Instant::now() < deadline {
            running.retain(|pid| alive(*pid));
            if !running.is_empty() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        output["still_running"] = json!(running);
        output["waited_ms"] = json!(started.elapsed().as_millis() as u64);
        if !running.is_empty() {
            return Err(Error::Api(format!(
                "{running:?} still running {wait}s after {signal}"
            )));
        }
    }
    Ok(output)
}

/// Sends SIGCONT to processes an earlier SIGSTOP froze.
pub(crate) fn resume(pids: &[i32]) -> Result<Value> {
    let mut resumed = Vec::new();
    for pid in pids {
        match kill(Pid::from_raw(*pid), Signal::SIGCONT) {
            Ok(()) => resumed.push(*pid),
            Err(Errno::ESRCH) => {}
            Err(e) => return Err(Error::Api(format!("SIGCONT to {pid}: {e}"))),
        }
    }
    Ok(json!({ "resumed": resumed }))
}

/// Waits until the pid file names a live process other than the ones
/// killed: the replacement has started. Bounded by the activity's timeout.
pub(crate) async fn wait_for_replacement(pid_file: &Path, killed: &[i32]) -> Result<Value> {
    let started = Instant::now();
    loop {
        if let Ok(pid) = read_pid_file(pid_file) {
            if !killed.contains(&pid) && alive(pid) {
                return Ok(json!({
                    "killed": killed,
                    "replaced_by": pid,
                    "waited_ms": started.elapsed().as_millis() as u64,
                }));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn read_pid_file(path: &Path) -> Result<i32> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io(format!("reading pid file {}", path.display()), e))?;
    let pid: i32 = text.trim().parse().map_err(|_| {
        Error::Api(format!(
            "pid file {} does not hold a pid: {:?}",
            path.display(),
            text.trim()
        ))
    })?;
    if pid <= 1 || pid as u32 == std::process::id() {
        return Err(Error::Api(format!(
            "pid file {} names pid {pid}, which is never a target",
            path.display()
        )));
    }
    Ok(pid)
}

/// Processes whose command line (arguments joined by spaces) matches.
pub fn find_by_pattern(pattern: &str) -> Result<Vec<i32>> {
    let re = Regex::new(pattern).map_err(|e| Error::Api(format!("bad pattern: {e}")))?;
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    let entries = std::fs::read_dir("/proc").map_err(|e| Error::Io("listing /proc".into(), e))?;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid <= 1 || pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // Kernel threads and zombies have no command line.
        if raw.is_empty() {
            continue;
        }
        let command = String::from_utf8_lossy(&raw)
            .trim_end_matches('\0')
            .replace('\0', " ");
        if re.is_match(&command) {
            found.push(pid);
        }
    }
    found.sort_unstable();
    Ok(found)
}

fn choose(matched: &[i32], targets: Targets, max: Option<u32>) -> Result<Vec<i32>> {
    let n = targets.count(matched.len());
    if let Some(max) = max {
        if n > max as usize {
            return Err(Error::Api(format!(
                "{n} processes would be hit, more than blast-radius.max-targets ({max})"
            )));
        }
    }
    let mut chosen: Vec<i32> = matched
        .choose_multiple(&mut rand::thread_rng(), n)
        .copied()
        .collect();
    chosen.sort_unstable();
    Ok(chosen)
}

/// Alive and not a zombie waiting to be reaped.
fn alive(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The state follows the parenthesised command name.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z") | Some("X"))
}

/// The program a `process` provider names: a path to an executable file
/// (`~` expanded), or a name looked up on `PATH`.
pub fn find_program(path: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let expanded = match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    };
    if path.contains('/') {
        return executable(&expanded).then_some(expanded);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(path))
        .find(|p| executable(p))
}

/// Output kept of each stream.
const MAX_OUTPUT: usize = 64 * 1024;

/// Runs a program as the Chaos Toolkit's `process` provider does:
/// `{value: status, status, stdout, stderr}`, whatever the exit status; only
/// a program that cannot start or outlives its timeout fails the activity.
pub(crate) async fn run(spec: &crate::experiment::ProcessRun, limit: Duration) -> Result<Value> {
    let program = find_program(&spec.path)
        .ok_or_else(|| Error::Api(format!("`{}` cannot be found", spec.path)))?;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let keep = |v: &&Value| !v.is_null() && v.as_str() != Some("");
    let mut command = match &spec.arguments {
        // One string is a shell command line after the program.
        Some(Value::String(line)) => {
            let mut command = tokio::process::Command::new("/bin/sh");
            command
                .arg("-c")
                .arg(format!("{} {line}", program.display()));
            command
        }
        other => {
            let arguments: Vec<String> = match other {
                Some(Value::Array(items)) => items.iter().filter(keep).map(text).collect(),
                Some(Value::Object(map)) => map
                    .iter()
                    .flat_map(|(k, v)| [Value::from(k.clone()), v.clone()])
                    .filter(|v| keep(&v))
                    .map(|v| text(&v))
                    .collect(),
                _ => Vec::new(),
            };
            let mut command = tokio::process::Command::new(&program);
            command.args(arguments);
            command
        }
    };
    command
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let limit = spec.timeout.map_or(limit, Duration::from_secs_f64);
    let output = tokio::time::timeout(limit, command.output())
        .await
        .map_err(|_| {
            Error::Api(format!(
                "process activity took too long to complete (over {}s)",
                limit.as_secs_f64()
            ))
        })?
        .map_err(|e| Error::Io(format!("running {}", program.display()), e))?;
    let status = output.status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        -output.status.signal().unwrap_or(0)
    });
    let cut =
        |bytes: &[u8]| String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_OUTPUT)]).into_owned();
    Ok(json!({
        "value": status,
        "status": status,
        "stdout": cut(&output.stdout),
        "stderr": cut(&output.stderr),
    }))
}
