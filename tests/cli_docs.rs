//! Shell completions and manual pages generated from the CLI definition (`lookout completions`,
//! `lookout manpage`): bash completes every subcommand, flags and flag values when sourced into a
//! real bash; the zsh and fish scripts are complete; the pages are roff that groff renders, one per
//! subcommand. What the subcommands are is read from `lookout --help`, not listed here, so a new
//! subcommand without a page or completion fails.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The subcommands `lookout ARGS --help` lists (without `help`).
fn subcommands_of(args: &[&str]) -> Vec<String> {
    let help = run_lookout(args.iter().copied().chain(["--help"])).success();
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.stdout.lines() {
        if line == "Commands:" {
            in_commands = true;
        } else if in_commands {
            // Entries are indented by two spaces; a description's continuation by more.
            let Some(entry) = line.strip_prefix("  ").filter(|e| !e.starts_with(' ')) else {
                if line.trim().is_empty() {
                    break;
                }
                continue;
            };
            let name = entry.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Every command path below `lookout`, nested ones included: ["detect"], ["model", "inspect"], ...
fn command_paths() -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut todo: Vec<Vec<String>> = subcommands_of(&[]).into_iter().map(|s| vec![s]).collect();
    while let Some(path) = todo.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        for sub in subcommands_of(&args) {
            let mut deeper = path.clone();
            deeper.push(sub);
            todo.push(deeper);
        }
        paths.push(path);
    }
    paths.sort();
    paths
}

/// The values `lookout bench --help` lists for `--precision`: `[possible values: a, b]`, or a
/// "Possible values:" list of `- a: what it means` lines when the values are documented.
fn precision_values() -> Vec<String> {
    let help = run_lookout(["bench", "--help"]).success().stdout;
    let after = help
        .split("--precision <")
        .nth(1)
        .expect("bench --help documents --precision");
    // The flag's own block ends where the next flag's begins.
    let block = after.split("\n  -").next().unwrap_or_default();
    if let Some(values) = block.split("[possible values: ").nth(1) {
        return values
            .split(']')
            .next()
            .unwrap_or_default()
            .split(", ")
            .map(String::from)
            .collect();
    }
    let list = block
        .split("Possible values:")
        .nth(1)
        .expect("possible values of --precision");
    list.lines()
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .map(|v| v.split(':').next().unwrap_or_default().to_string())
        .collect()
}

fn completions(shell: &str) -> String {
    run_lookout(["completions", shell]).success().stdout
}

/// What bash's completion offers for the words of a command line, the last one being completed,
/// with `script` sourced as bash-completion would.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let line = words.join(" ");
    let program = format!(
        "source '{}'\n\
         COMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n\
         func=$(complete -p lookout | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')\n\
         [ -n \"$func\" ] || {{ echo 'no completion function registered for lookout' >&2; exit 1; }}\n\
         \"$func\" lookout '{}' '{}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        if words.len() > 1 { words[words.len() - 2] } else { "" },
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash completion failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_every_subcommand_flags_and_flag_values() {
    let subcommands = subcommands_of(&[]);
    for expected in ["replay", "bench", "model", "completions", "manpage"] {
        assert!(
            subcommands.iter().any(|s| s == expected),
            "`lookout --help` lists {subcommands:?}, without {expected}"
        );
    }
    let script = completions("bash");
    for sub in &subcommands {
        assert!(script.contains(sub.as_str()), "no {sub} in the bash script");
    }
    assert!(
        script.contains("--precision"),
        "no --precision in the bash script"
    );

    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("lookout");
    std::fs::write(&file, &script).expect("write the script");
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash");
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    let offered = bash_complete(&file, &["lookout", ""]);
    for sub in &subcommands {
        assert!(
            offered.contains(sub),
            "`lookout <TAB>` offers {offered:?}, not {sub}"
        );
    }
    assert_eq!(
        bash_complete(&file, &["lookout", "bench", "--prec"]),
        vec!["--precision".to_string()],
        "`lookout bench --prec<TAB>`"
    );
    let mut values = bash_complete(&file, &["lookout", "bench", "--precision", ""]);
    let mut expected = precision_values();
    values.sort();
    expected.sort();
    assert!(expected.len() >= 2, "possible values {expected:?}");
    assert_eq!(values, expected, "`lookout bench --precision <TAB>`");
    // A flag of another subcommand is not offered for this one.
    assert!(
        bash_complete(&file, &["lookout", "detect", "--prec"]).is_empty(),
        "detect has no --precision"
    );
}

#[test]
fn zsh_and_fish_scripts_cover_every_subcommand() {
    let subcommands = subcommands_of(&[]);
    let zsh = completions("zsh");
    assert!(
        zsh.starts_with("#compdef lookout"),
        "zsh: {}",
        &zsh[..80.min(zsh.len())]
    );
    let fish = completions("fish");
    assert!(fish.contains("complete -c lookout"), "fish script");
    for script in [&zsh, &fish] {
        for sub in &subcommands {
            assert!(
                script.contains(sub.as_str()),
                "no {sub} in a completion script"
            );
        }
        assert!(
            script.contains("precision"),
            "no precision flag in a completion script"
        );
    }
    for shell in ["elvish", "powershell"] {
        assert!(completions(shell).contains("completions"), "{shell}");
    }
    let bad = run_lookout(["completions", "tcsh"]);
    assert_eq!(bad.code(), Some(2), "an unknown shell is a usage error");
    assert!(
        bad.stderr.contains("bash"),
        "the error names the shells: {}",
        bad.stderr
    );
}

#[test]
fn manual_pages_are_roff_one_per_subcommand_and_render() {
    let dir = tempfile::tempdir().expect("tmp");
    let out_dir = dir.path().join("man1");
    let written = run_lookout(["manpage".as_ref(), out_dir.as_os_str()])
        .success()
        .stdout;
    let mut listed: Vec<String> = written.lines().map(String::from).collect();
    listed.sort();
    let mut expected: Vec<String> = std::iter::once("lookout.1".to_string())
        .chain(
            command_paths()
                .iter()
                .map(|p| format!("lookout-{}.1", p.join("-"))),
        )
        .map(|f| path_str(&out_dir.join(f)))
        .collect();
    expected.sort();
    assert!(
        expected
            .iter()
            .any(|f| f.ends_with("lookout-model-inspect.1")),
        "nested subcommands get pages: {expected:?}"
    );
    assert_eq!(listed, expected, "the pages written");
    let on_disk = std::fs::read_dir(&out_dir).expect("man1").count();
    assert_eq!(on_disk, expected.len(), "files in {}", out_dir.display());

    let top = std::fs::read_to_string(out_dir.join("lookout.1")).expect("lookout.1");
    assert!(
        top.starts_with(".ie \\n(.g") || top.starts_with(".TH"),
        "roff: {}",
        &top[..60]
    );
    assert!(top.contains(".TH lookout 1"), "title line");
    for sub in subcommands_of(&[]) {
        assert!(
            // roff writes each hyphen as `\-`.
            top.contains(&format!("lookout-{sub}(1)").replace('-', "\\-")),
            "lookout.1 points to lookout-{sub}(1)"
        );
    }
    assert_eq!(
        run_lookout(["manpage"]).success().stdout,
        top,
        "`lookout manpage` without a folder prints lookout.1"
    );

    for path in &expected {
        let name = Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name");
        let page = std::fs::read_to_string(path).expect("page");
        assert!(page.contains(".SH NAME"), "{name}: no NAME section");
        // groff with every warning on: a page it cannot typeset cleanly fails here. The pages are
        // UTF-8 (as Debian's policy wants), which -k (preconv) reads, as man does; -P-cbou: plain
        // text, no bold or underline.
        let out = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-P-cbou", path])
            .output()
            .expect("groff is installed (.ci/setup.sh installs groff-base)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "groff {name}: {stderr}"
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for section in ["NAME", "SYNOPSIS", "OPTIONS"] {
            assert!(text.contains(section), "{name} renders without {section}");
        }
        assert!(text.contains(name), "{name} renders without its own name");
        assert!(text.contains("--help"), "{name} renders without its flags");
    }
    let bench = std::fs::read_to_string(out_dir.join("lookout-bench.1")).expect("bench page");
    assert!(
        bench.contains("precision"),
        "lookout-bench.1 documents --precision"
    );

    // A folder that cannot be made is a usage error that names it.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let bad = run_lookout(["manpage".as_ref(), file.join("man1").as_os_str()]);
    assert_eq!(bad.code(), Some(2), "{}", bad.stderr);
    assert!(bad.stderr.contains("a-file"), "{}", bad.stderr);
}
