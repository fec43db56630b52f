//! A pod's CPU limit for a process of ours: a cgroup of its own with a CPU
//! quota, as the kubelet sets `resources.limits.cpu` (cgroup v1
//! `cpu.cfs_quota_us`, or v2 `cpu.max`, whichever this machine lets us
//! write). The group is removed when dropped.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// The CFS period the kubelet uses: 100 ms.
const PERIOD_US: u64 = 100_000;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot apply a CPU limit: neither cgroup v1 ({v1}) nor v2 ({v2}) can be written here \
         ({cause}); run as root on a machine with the cpu controller, or leave the limit out"
    )]
    Unavailable {
        v1: String,
        v2: String,
        cause: String,
    },
    #[error("a CPU limit must be more than 0 and at most the machine's {cpus} CPUs, got {cores}")]
    OutOfRange { cores: f64, cpus: usize },
    #[error("{0}")]
    Io(String, #[source] std::io::Error),
}

/// Where cgroups are mounted; v1 keeps the cpu controller in a hierarchy of
/// its own.
const V1_ROOT: &str = "/sys/fs/cgroup/cpu";
const V2_ROOT: &str = "/sys/fs/cgroup";

/// A CPU limit in cores, such as 0.25 for `250m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cores(f64);

impl Cores {
    /// Checks `cores` against the machine: more than 0, at most its CPUs.
    pub fn new(cores: f64) -> Result<Cores, Error> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores.is_finite() && cores > 0.0 && cores <= cpus as f64 {
            Ok(Cores(cores))
        } else {
            Err(Error::OutOfRange { cores, cpus })
        }
    }

    /// Parses a Kubernetes CPU quantity: `250m`, `0.5`, `2`.
    pub fn parse(quantity: &str) -> Result<Cores, String> {
        let quantity = quantity.trim();
        let cores = match quantity.strip_suffix('m') {
            Some(milli) => milli.parse::<f64>().map(|m| m / 1000.0),
            None => quantity.parse::<f64>(),
        }
        .map_err(|_| format!("`{quantity}` is not a CPU quantity such as 250m or 0.5"))?;
        Cores::new(cores).map_err(|e| e.to_string())
    }

    pub fn get(self) -> f64 {
        self.0
    }

    fn quota_us(self) -> u64 {
        ((self.0 * PERIOD_US as f64).round() as u64).max(1_000)
    }
}

/// A cgroup with a CPU quota; processes join it with [`CpuLimit::add`].
#[derive(Debug)]
pub struct CpuLimit {
    dir: PathBuf,
    cores: Cores,
}

impl CpuLimit {
    /// Creates the group `name` (unique per process) with a quota of `cores`.
    pub fn create(name: &str, cores: Cores) -> Result<CpuLimit, Error> {
        let name = format!("fleet-{}-{name}", std::process::id());
        let v1 = Path::new(V1_ROOT).join(&name);
        let v2 = Path::new(V2_ROOT).join(&name);
        let v1_error = match create_v1(&v1, cores) {
            Ok(()) => return Ok(CpuLimit { dir: v1, cores }),
            Err(e) => e,
        };
        match create_v2(&v2, cores) {
            Ok(()) => Ok(CpuLimit { dir: v2, cores }),
            Err(v2_error) => Err(Error::Unavailable {
                v1: V1_ROOT.into(),
                v2: V2_ROOT.into(),
                cause: format!("v1: {v1_error}; v2: {v2_error}"),
            }),
        }
    }

    /// Moves process `pid` into the group.
    pub fn add(&self, pid: u32) -> Result<(), Error> {
        let procs = self.dir.join("cgroup.procs");
        fs::write(&procs, pid.to_string())
            .map_err(|e| Error::Io(format!("adding process {pid} to {}", procs.display()), e))
    }

    pub fn cores(&self) -> Cores {
        self.cores
    }

    /// The group's directory, e.g. `/sys/fs/cgroup/cpu/fleet-123-shop-0`.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        // A group can only be removed once empty: hand any process still in
        // it back to the root group first.
        let root = self.dir.parent().map(|p| p.join("cgroup.procs"));
        if let (Ok(procs), Some(root)) = (fs::read_to_string(self.dir.join("cgroup.procs")), root) {
            for pid in procs.lines() {
                let _ = fs::write(&root, pid);
            }
        }
        let _ = fs::remove_dir(&self.dir);
    }
}

fn create_v1(dir: &Path, cores: Cores) -> std::io::Result<()> {
    if !Path::new(V1_ROOT).join("cpu.cfs_quota_us").exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no v1 cpu controller",
        ));
    }
    fs::create_dir(dir)?;
    let written = fs::write(dir.join("cpu.cfs_period_us"), PERIOD_US.to_string())
        .and_then(|()| fs::write(dir.join("cpu.cfs_quota_us"), cores.quota_us().to_string()));
    if written.is_err() {
        let _ = fs::remove_dir(dir);
    }
    written
}

fn create_v2(dir: &Path, cores: Cores) -> std::io::Result<()> {
    let controllers = fs::read_to_string(Path::new(V2_ROOT).join("cgroup.controllers"))?;
    if !controllers.split_whitespace().any(|c| c == "cpu") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the v2 hierarchy has no cpu controller",
        ));
    }
    fs::create_dir(dir)?;
    let written = fs::write(
        dir.join("cpu.max"),
        format!("{} {PERIOD_US}", cores.quota_us()),
    );
    if written.is_err() {
        let _ = fs::remove_dir(dir);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_cpu_quantities_parse_to_cores() {
        assert_eq!(Cores::parse("250m").unwrap().get(), 0.25);
        assert_eq!(Cores::parse("0.5").unwrap().get(), 0.5);
        assert!(Cores::parse("0").is_err());
        assert!(Cores::parse("lots").is_err());
        assert!(Cores::parse("100000").unwrap_err().contains("at most"));
    }

    #[test]
    fn a_quarter_core_is_a_quota_of_a_quarter_period() {
        assert_eq!(Cores(0.25).quota_us(), 25_000);
    }
}
