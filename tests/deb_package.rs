//! The Debian package: `systemd/build-deb.sh` packages the binary under test, `dpkg -i` installs
//! it on this machine, the installed lookout checks its installed config and detects with its
//! installed model from a directory outside the repository, the manual pages and shell completions
//! are the binary's own and where man and the shells look, `systemd-analyze verify` accepts the
//! installed unit, which is not enabled; `dpkg -r` keeps the edited conffile, `dpkg -P` removes it.
//!
//! It installs into /usr, /etc and /lib/systemd, so it needs root and dpkg, and it fails (not skips)
//! without them: CI runs the README's test command as root. Skip it elsewhere with
//! `cargo test --release --features onnxruntime -- --skip deb_package`. It refuses to run where a
//! lookout is already installed, and purges its package at the end, also when a check fails.
//! No other test uses /usr/bin/lookout, /etc/lookout or /usr/share/lookout, and cargo runs test
//! binaries one after another, so the installed package is seen by this file's tests only.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CONFFILE: &str = "/etc/lookout/lookout.toml";
const UNIT: &str = "/lib/systemd/system/lookout.service";
const BIN: &str = "/usr/bin/lookout";
const MODEL: &str = "/usr/share/lookout/models/nanodet-m-fp32.toml";
const MAN1: &str = "/usr/share/man/man1";
/// Where each shell's completion loader looks, and the shell.
const COMPLETIONS: [(&str, &str); 3] = [
    ("/usr/share/bash-completion/completions/lookout", "bash"),
    ("/usr/share/zsh/vendor-completions/_lookout", "zsh"),
    ("/usr/share/fish/vendor_completions.d/lookout.fish", "fish"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run {cmd:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `cmd` and returns its stdout; panics with its output when it fails.
fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// dpkg's status of the lookout package ("install ok installed", "deinstall ok config-files"), or
/// "" when dpkg knows nothing of it.
fn package_status() -> String {
    let out = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "lookout"]));
    if out.status.success() {
        text(&out.stdout)
    } else {
        String::new()
    }
}

/// dpkg, or a failure that says what is missing.
fn require_dpkg() {
    for tool in ["dpkg", "dpkg-deb", "dpkg-query"] {
        let found = Command::new(tool).arg("--version").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "tests/deb_package.rs needs {tool} (a Debian/Ubuntu machine): it builds and installs the \
             .deb. Run the tests there as root, as CI does, or skip this file with `-- --skip deb_package`"
        );
    }
}

/// Root and dpkg, or a failure that says what is missing.
fn require_root_and_dpkg() {
    require_dpkg();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "tests/deb_package.rs installs the lookout .deb with dpkg and must run as root (CI runs the \
         README's test command as root). Run as root, or skip this file with `-- --skip deb_package`"
    );
}

/// The Debian architecture of this machine, and another one the script packages.
fn archs() -> (String, &'static str) {
    let host = ok(Command::new("dpkg").arg("--print-architecture"))
        .trim()
        .to_string();
    let other = if host == "arm64" { "amd64" } else { "arm64" };
    (host, other)
}

/// Purges the package when dropped, so that the machine is left as it was found even when a check
/// fails halfway.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        if !package_status().is_empty() {
            let out = Command::new("dpkg").args(["-P", "lookout"]).output();
            if !out.as_ref().is_ok_and(|o| o.status.success()) {
                eprintln!("deb_package: `dpkg -P lookout` failed while cleaning up: {out:?}");
            }
        }
    }
}

fn build_deb(out_dir: &Path, extra: &[&str]) -> Output {
    run(Command::new(root().join("systemd/build-deb.sh"))
        .args(extra)
        .arg("--out")
        .arg(out_dir)
        .current_dir(root()))
}

#[test]
fn deb_package_refuses_a_binary_of_another_architecture() {
    require_dpkg();
    let (_, other) = archs();
    let dir = tempfile::tempdir().expect("tmp");
    let out = build_deb(
        dir.path(),
        &["--arch", other, "--binary", env!("CARGO_BIN_EXE_lookout")],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "packaged a host binary as {other}");
    assert!(
        stderr.contains(&format!("is not an executable for {other}")),
        "unclear refusal: {stderr}"
    );
    let missing = build_deb(
        dir.path(),
        &["--arch", other, "--binary", "/nonexistent/lookout"],
    );
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains(&format!("no {other} binary at /nonexistent/lookout")),
        "unclear error for a missing binary: {}",
        text(&missing.stderr)
    );
    assert!(
        std::fs::read_dir(dir.path())
            .expect("out dir")
            .next()
            .is_none(),
        "a refused build left a .deb behind"
    );
}

#[test]
fn deb_package_installs_runs_and_purges() {
    require_root_and_dpkg();
    let status = package_status();
    assert!(
        status.is_empty() || status.contains("not-installed"),
        "a lookout package is already on this machine ({status}); this test installs and purges \
         lookout, so it will not run here. Remove it first: dpkg -P lookout"
    );
    for path in [BIN, CONFFILE, UNIT, "/usr/share/lookout"] {
        assert!(
            !Path::new(path).exists(),
            "{path} exists (a manual install?); this test installs the package over those paths \
             and purges it, so it will not run here. Remove the manual install first"
        );
    }

    let (host, _) = archs();
    let dir = tempfile::tempdir().expect("tmp");
    let built = build_deb(dir.path(), &["--binary", env!("CARGO_BIN_EXE_lookout")]);
    assert!(
        built.status.success(),
        "systemd/build-deb.sh failed: {}",
        text(&built.stderr)
    );
    let deb = dir
        .path()
        .join(format!("lookout_{}_{host}.deb", env!("CARGO_PKG_VERSION")));
    assert_eq!(text(&built.stdout).trim(), deb.to_str().expect("utf-8"));

    let _purge = Purge;
    ok(Command::new("dpkg").arg("-i").arg(&deb));
    assert_eq!(package_status(), "install ok installed");
    let conffiles = ok(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "lookout"]));
    assert!(conffiles.contains(CONFFILE), "not a conffile: {conffiles}");
    let config = std::fs::read_to_string(CONFFILE).expect("installed config");
    assert!(
        config.contains(&format!("\nmodel = \"{MODEL}\"\n")),
        "the installed config's model is not the installed model"
    );
    for file in [
        "/usr/share/lookout/models/nanodet_m_416_coco_fp32.onnx",
        "/usr/share/lookout/models/nanodet-m-int8.toml",
        "/usr/share/lookout/models/coco80.txt",
        "/usr/share/lookout/models/NOTICE",
        "/usr/share/lookout/models/LICENSE.Apache-2.0.txt",
        "/usr/share/doc/lookout/README.md",
        "/usr/share/doc/lookout/copyright",
        "/usr/share/doc/lookout/docs/mqtt.md",
        "/usr/share/doc/lookout/docs/fleet.md",
        "/usr/share/doc/lookout/examples/mosquitto-bridge.conf",
    ] {
        assert!(Path::new(file).is_file(), "{file} is not installed");
    }

    check_manual_pages_and_completions();

    // From a directory outside the repository: only the installed files can be found.
    let elsewhere = tempfile::tempdir().expect("tmp");
    let bus = elsewhere.path().join("bus.jpg");
    std::fs::copy(root().join("tests/data/bus.jpg"), &bus).expect("copy bus.jpg");
    let lookout = || {
        let mut c = Command::new(BIN);
        c.current_dir(elsewhere.path());
        c
    };
    let checked = ok(lookout().args(["check-config", CONFFILE]));
    assert!(checked.contains("ok"), "check-config: {checked}");
    // The config's model, and the bundled model by its relative name (found in /usr/share/lookout).
    for model_args in [
        ["--config", CONFFILE],
        ["--model", "models/nanodet-m-int8.toml"],
    ] {
        let json = ok(lookout().arg("detect").args(model_args).args([
            "--input-size",
            "416x416",
            "bus.jpg",
        ]));
        let v: serde_json::Value = serde_json::from_str(json.trim()).expect("detect JSON");
        let classes: Vec<&str> = v["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .map(|o| o["class"].as_str().expect("class"))
            .collect();
        assert!(
            classes.contains(&"bus") && classes.iter().filter(|c| **c == "person").count() >= 3,
            "detect {model_args:?} on bus.jpg found {classes:?}"
        );
    }

    let unit = std::fs::read_to_string(UNIT).expect("installed unit");
    assert!(
        unit.lines()
            .any(|l| l
                .starts_with("ExecStart=/usr/bin/lookout run --config /etc/lookout/lookout.toml")),
        "the installed unit does not run /usr/bin/lookout"
    );
    let verify = run(Command::new("systemd-analyze").args(["verify", "--man=no", UNIT]));
    let stderr = text(&verify.stderr);
    assert!(
        verify.status.success() && !stderr.contains("lookout.service"),
        "systemd-analyze verify {UNIT}: {stderr}"
    );
    // Installed, not enabled (nor started: nothing ran it).
    let wants = Path::new("/etc/systemd/system/multi-user.target.wants/lookout.service");
    assert!(
        !wants.exists() && !wants.is_symlink(),
        "the package enabled the unit"
    );
    // systemctl answers without a running systemd here; where it cannot, the symlink check stands.
    let enabled = run(Command::new("systemctl").args(["is-enabled", "lookout.service"]));
    let state = text(&enabled.stdout);
    assert!(
        !enabled.status.success() && matches!(state.trim(), "disabled" | ""),
        "systemctl is-enabled lookout.service: {state} {}",
        text(&enabled.stderr)
    );

    let edited = format!("{config}\n# edited by tests/deb_package.rs\n");
    std::fs::write(CONFFILE, &edited).expect("edit the conffile");
    ok(Command::new("dpkg").args(["-r", "lookout"]));
    assert_eq!(package_status(), "deinstall ok config-files");
    assert!(!Path::new(BIN).exists(), "dpkg -r left {BIN}");
    assert!(!Path::new(UNIT).exists(), "dpkg -r left {UNIT}");
    for (file, _) in COMPLETIONS {
        assert!(!Path::new(file).exists(), "dpkg -r left {file}");
    }
    assert!(
        installed_pages().is_empty(),
        "dpkg -r left manual pages in {MAN1}"
    );
    assert_eq!(
        std::fs::read_to_string(CONFFILE).expect("dpkg -r must keep the edited conffile"),
        edited
    );
    ok(Command::new("dpkg").args(["-P", "lookout"]));
    assert!(package_status().is_empty() || package_status().contains("not-installed"));
    assert!(!Path::new(CONFFILE).exists(), "dpkg -P left {CONFFILE}");
    assert!(
        !Path::new("/etc/lookout").exists(),
        "dpkg -P left /etc/lookout"
    );
    assert!(
        !Path::new("/usr/share/lookout").exists(),
        "dpkg -P left /usr/share/lookout"
    );
}

/// The lookout pages in /usr/share/man/man1.
fn installed_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(MAN1)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n == "lookout.1.gz" || n.starts_with("lookout-"))
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    pages
}

/// The package installed the pages and completions of the binary under test: the same files its
/// `manpage` and `completions` write, gzipped pages where man looks, each completion where its
/// shell's loader looks; bash-completion's loader finds and loads the bash one by name.
fn check_manual_pages_and_completions() {
    let generated = tempfile::tempdir().expect("tmp");
    let listed = ok(Command::new(env!("CARGO_BIN_EXE_lookout"))
        .arg("manpage")
        .arg(generated.path()));
    let mut expected: Vec<String> = listed
        .lines()
        .map(|p| {
            let name = Path::new(p).file_name().expect("a page file");
            format!("{}.gz", name.to_string_lossy())
        })
        .collect();
    expected.sort();
    assert!(
        expected.len() > 5 && expected.iter().any(|p| p == "lookout-replay.1.gz"),
        "lookout manpage wrote {expected:?}"
    );
    assert_eq!(installed_pages(), expected, "the pages in {MAN1}");
    for page in &expected {
        let installed = format!("{MAN1}/{page}");
        let text = ok(Command::new("gzip").args(["-dc", &installed]));
        let fresh = std::fs::read_to_string(generated.path().join(page.trim_end_matches(".gz")))
            .expect("generated page");
        assert_eq!(text, fresh, "{installed} is not this binary's page");
    }
    for (file, shell) in COMPLETIONS {
        let installed = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("{file} is not installed: {e}"));
        let fresh = ok(Command::new(env!("CARGO_BIN_EXE_lookout")).args(["completions", shell]));
        assert_eq!(
            installed, fresh,
            "{file} is not this binary's {shell} completion"
        );
    }
    let loader = "/usr/share/bash-completion/bash_completion";
    assert!(
        Path::new(loader).is_file(),
        "{loader} is missing: install bash-completion (.ci/setup.sh does)"
    );
    let loaded = ok(Command::new("bash").args([
        "--norc",
        "-c",
        &format!("source {loader} && _completion_loader lookout; complete -p lookout"),
    ]));
    assert!(
        loaded.contains("-F _lookout") && loaded.trim_end().ends_with(" lookout"),
        "bash-completion did not load the installed completion for lookout: {loaded}"
    );
}
