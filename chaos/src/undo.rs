//! What an action leaves behind so that a rollback can take it back: the
//! run's context keeps these, the actions make and undo them.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use serde_json::{json, Value};

/// How to take back one thing an action did.
#[derive(Debug)]
pub(crate) enum UndoState {
    ShopFault {
        admin_url: String,
        id: String,
    },
    Toxic {
        api: String,
        proxy: String,
        name: String,
    },
    ProxyEnabled {
        api: String,
        proxy: String,
        enabled: bool,
    },
    Stopped {
        pids: Vec<i32>,
    },
    /// Killed processes whose replacement the undo waits for.
    Replaced {
        pid_file: std::path::PathBuf,
        killed: Vec<i32>,
    },
    Kubernetes(KubernetesUndo),
    Stress(StressHandle),
}

/// How to take back a Kubernetes action.
#[derive(Debug)]
pub(crate) enum KubernetesUndo {
    PodsDeleted {
        namespace: String,
        selector: String,
        ready_before: usize,
    },
    Scaled {
        namespace: String,
        deployment: String,
        replicas: i32,
    },
    Restarted {
        namespace: String,
        deployment: String,
        previous: Option<String>,
    },
    Resources {
        namespace: String,
        deployment: String,
        index: usize,
        container: String,
        previous: Value,
    },
}

/// Stops a running stress early.
#[derive(Debug, Clone)]
pub(crate) struct StressHandle(Arc<AtomicBool>);

impl StressHandle {
    /// A handle whose stress runs until [`StressHandle::stop`].
    pub(crate) fn new() -> StressHandle {
        StressHandle(Arc::new(AtomicBool::new(false)))
    }

    /// Whether [`StressHandle::stop`] was called.
    pub(crate) fn stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    pub(crate) fn stop(&self) -> Value {
        let was_running = !self.0.swap(true, Ordering::AcqRel);
        json!({ "stopped": was_running })
    }
}
