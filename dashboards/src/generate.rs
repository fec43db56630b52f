//! From the dashboards to files: one JSON file per dashboard, and Grafana's
//! provisioning files.

use std::path::{Path, PathBuf};

use crate::{datasource, model::Dashboard, Error, Result};

/// Where the committed dashboard JSON lives, relative to the workspace root.
pub const GENERATED_DIR: &str = "dashboards/generated";
/// Where the committed provisioning files live, relative to the workspace root.
pub const PROVISIONING_DIR: &str = "dashboards/provisioning";

/// One file to write: its path under the output directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: PathBuf,
    pub contents: String,
}

/// `<uid>.json` for each dashboard: pretty JSON, as Grafana exports it.
pub fn dashboard_files(dashboards: &[Dashboard]) -> Result<Vec<GeneratedFile>> {
    dashboards
        .iter()
        .map(|dashboard| {
            let mut contents = serde_json::to_string_pretty(dashboard)?;
            contents.push('\n');
            Ok(GeneratedFile {
                path: PathBuf::from(format!("{}.json", dashboard.uid)),
                contents,
            })
        })
        .collect()
}

/// `datasources/prometheus.yaml` and `dashboards/shop.yaml`.
pub fn provisioning_files() -> Result<Vec<GeneratedFile>> {
    Ok(vec![
        GeneratedFile {
            path: PathBuf::from("datasources/prometheus.yaml"),
            contents: datasource::datasource_yaml()?,
        },
        GeneratedFile {
            path: PathBuf::from("dashboards/shop.yaml"),
            contents: datasource::provider_yaml()?,
        },
    ])
}

/// Writes the files under `dir`, creating directories.
pub fn write(dir: &Path, files: &[GeneratedFile]) -> Result<Vec<PathBuf>> {
    files
        .iter()
        .map(|file| {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                    action: "creating",
                    path: parent.to_owned(),
                    source,
                })?;
            }
            std::fs::write(&path, &file.contents).map_err(|source| Error::Io {
                action: "writing",
                path: path.clone(),
                source,
            })?;
            Ok(path)
        })
        .collect()
}

/// Files under `dir` that differ from `files` or are missing, and files
/// with the same extension that no generation writes (a removed dashboard
/// left behind would still be loaded by Grafana).
pub fn stale(dir: &Path, files: &[GeneratedFile]) -> Vec<PathBuf> {
    let mut stale: Vec<PathBuf> = files
        .iter()
        .filter(|file| {
            std::fs::read_to_string(dir.join(&file.path))
                .ok()
                .as_deref()
                != Some(&file.contents)
        })
        .map(|file| dir.join(&file.path))
        .collect();
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            dir.join(&f.path)
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default()
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for sub in dirs {
        let Ok(entries) = std::fs::read_dir(&sub) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = files.iter().any(|f| dir.join(&f.path) == path);
            let same_kind = files.iter().any(|f| f.path.extension() == path.extension());
            if path.is_file() && same_kind && !ours {
                stale.push(path);
            }
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_a_missing_and_a_leftover_file_are_all_stale() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            GeneratedFile {
                path: "a.json".into(),
                contents: "{}\n".into(),
            },
            GeneratedFile {
                path: "b.json".into(),
                contents: "{}\n".into(),
            },
        ];
        write(dir.path(), &files).unwrap();
        assert!(stale(dir.path(), &files).is_empty());

        std::fs::write(dir.path().join("a.json"), "{\"x\":1}\n").unwrap();
        std::fs::remove_file(dir.path().join("b.json")).unwrap();
        std::fs::write(dir.path().join("old.json"), "{}\n").unwrap();
        let mut found = stale(dir.path(), &files);
        found.sort();
        assert_eq!(
            found,
            ["a.json", "b.json", "old.json"].map(|f| dir.path().join(f))
        );
    }
}
