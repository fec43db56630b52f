use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use alerts::{
    generate::{self, GeneratedFile, Options},
    rules::RuleFile,
    spec::SloSpec,
};

/// `alerts/`.
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    crate_dir()
        .parent()
        .expect("alerts/ is inside the workspace")
        .to_owned()
}

/// The shipped spec, read from disk.
pub(crate) fn shipped_spec() -> SloSpec {
    SloSpec::load(crate_dir().join("slo.yaml")).expect("alerts/slo.yaml is valid")
}

/// The rule files of the shipped spec, generated as `alerts generate` does.
pub(crate) fn generate_shipped(options: &Options) -> Vec<GeneratedFile> {
    generate::generate(&shipped_spec(), "slo.yaml", options).expect("the rules generate")
}

/// The parsed rule files.
pub(crate) fn parse(files: &[GeneratedFile]) -> Vec<RuleFile> {
    files
        .iter()
        .map(|f| RuleFile::from_yaml(&f.contents).expect("generated YAML parses"))
        .collect()
}

/// Every alert name in the committed rule files.
pub(crate) fn committed_alert_names() -> BTreeSet<String> {
    parse(&generate_shipped(&Options::default()))
        .iter()
        .flat_map(|file| {
            file.alerts()
                .filter_map(|r| r.alert.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs a tool from PATH, failing the test with an install hint if it is missing.
pub(crate) fn run_tool(tool: &str, package: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "could not run {tool} ({e}): install the Debian package {package} \
                 (scripts/test.sh does)"
            )
        })
}

/// Runs promtool and asserts it succeeded, showing its output when not.
pub(crate) fn promtool(args: &[&str], cwd: &Path) -> String {
    let output = run_tool("promtool", "prometheus", args, cwd);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool {} failed:\n{text}",
        args.join(" ")
    );
    text
}

/// Compares `actual` with the file at `path`, or writes it when
/// `UPDATE_GOLDEN` is set. The failure shows the first differing line.
pub(crate) fn assert_golden(path: &Path, actual: &str, hint: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {} ({e}); {hint}", path.display()));
    if expected == actual {
        return;
    }
    let (line, want, got) = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i + 1, a.to_owned(), b.to_owned()))
        .unwrap_or_else(|| {
            let n = expected.lines().count().min(actual.lines().count());
            (
                n + 1,
                "<end or more lines>".into(),
                "<end or more lines>".into(),
            )
        });
    panic!(
        "{} differs from a fresh generation at line {line}:\n  committed: {want}\n  generated: {got}\n{hint}",
        path.display()
    );
}
