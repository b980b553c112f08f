//! A scratch directory and a command runner, modelled on ripgrep's `tests/util.rs`.
//!
//! ```ignore
//! let dir = TestDir::new();
//! dir.write("app/deploy.yaml", "kind: Deployment\n");
//! let out = dir.cmd().args(["render", "app"]).env("ARGOCD_APP_NAME", "x").stdout_ok();
//! ```
//!
//! Commands start from a **cleared** environment plus `PATH` and `HOME` from the test
//! process, and whatever the test sets with [`Cmd::env`].

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `pullthrough` binary built by Cargo for this test run.
pub fn pullthrough_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pullthrough"))
}

/// A fresh temporary directory, removed on drop.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        let dir = tempfile::Builder::new()
            .prefix("pullthrough-test-")
            .tempdir()
            .expect("create temporary directory");
        TestDir { dir }
    }

    /// The directory's absolute path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `self.path().join(rel)`.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path().join(rel)
    }

    /// Writes `contents` to `rel`, creating parent directories. Returns the full path.
    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Creates directory `rel` (and its parents). Returns the full path.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let path = self.join(rel);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        path
    }

    /// Reads file `rel`.
    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let path = self.join(rel);
        fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Copies the tree at `src` (a file or a directory) to `rel`, recursively.
    /// Symlinks are recreated as symlinks with the same target. Returns the full path.
    pub fn copy_tree(&self, src: impl AsRef<Path>, rel: impl AsRef<Path>) -> PathBuf {
        let dest = self.join(rel);
        copy_recursive(src.as_ref(), &dest);
        dest
    }

    /// Creates a symlink at `link_rel` pointing to `target` (stored as given, so a
    /// relative target stays relative). Returns the link's full path.
    pub fn symlink(&self, target: impl AsRef<Path>, link_rel: impl AsRef<Path>) -> PathBuf {
        let link = self.join(link_rel);
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        }
        std::os::unix::fs::symlink(target.as_ref(), &link).unwrap_or_else(|e| {
            panic!(
                "symlink {} -> {}: {e}",
                link.display(),
                target.as_ref().display()
            )
        });
        link
    }

    /// A [`Cmd`] for the `pullthrough` binary, running in this directory.
    pub fn cmd(&self) -> Cmd {
        let mut cmd = Cmd::new();
        cmd.current_dir(self.path());
        cmd
    }
}

impl Default for TestDir {
    fn default() -> Self {
        Self::new()
    }
}

fn copy_recursive(src: &Path, dest: &Path) {
    let meta = fs::symlink_metadata(src).unwrap_or_else(|e| panic!("stat {}: {e}", src.display()));
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    }
    if meta.file_type().is_symlink() {
        let target =
            fs::read_link(src).unwrap_or_else(|e| panic!("readlink {}: {e}", src.display()));
        std::os::unix::fs::symlink(&target, dest)
            .unwrap_or_else(|e| panic!("symlink {}: {e}", dest.display()));
    } else if meta.is_dir() {
        fs::create_dir_all(dest).unwrap_or_else(|e| panic!("mkdir {}: {e}", dest.display()));
        let mut entries: Vec<_> = fs::read_dir(src)
            .unwrap_or_else(|e| panic!("read_dir {}: {e}", src.display()))
            .map(|e| e.expect("read_dir entry").file_name())
            .collect();
        entries.sort();
        for name in entries {
            copy_recursive(&src.join(&name), &dest.join(&name));
        }
    } else {
        fs::copy(src, dest)
            .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dest.display()));
    }
}

/// A command to run, with a cleared environment (plus `PATH` and `HOME`).
#[derive(Debug, Clone)]
pub struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    /// The real `pullthrough` binary.
    pub fn new() -> Cmd {
        Cmd::program(pullthrough_bin())
    }

    /// Any other program (e.g. [`super::tools::helm4`]).
    pub fn program(program: impl Into<PathBuf>) -> Cmd {
        Cmd {
            program: program.into(),
            args: vec![],
            env: vec![],
            cwd: None,
            stdin: None,
        }
    }

    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Cmd {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(&mut self, args: I) -> &mut Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable (on top of the cleared environment).
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Cmd {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn current_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// Bytes written to the child's stdin (otherwise stdin is empty).
    pub fn stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).env_clear();
        for key in ["PATH", "HOME"] {
            if let Some(value) = std::env::var_os(key) {
                cmd.env(key, value);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &self.cwd {
            cmd.current_dir(cwd);
        }
        cmd
    }

    /// Runs the command to completion, whatever its status.
    pub fn output(&self) -> Output {
        let mut cmd = self.command();
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.describe()));
        let mut stdin = child.stdin.take().expect("child stdin");
        let input = self.stdin.clone().unwrap_or_default();
        // Write from a thread so that a child filling its stdout pipe cannot deadlock us.
        let writer = std::thread::spawn(move || {
            // A child that exits without reading all of its input is not our error.
            let _ = stdin.write_all(&input);
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait for {}: {e}", self.describe()));
        writer.join().expect("stdin writer thread");
        output
    }

    /// Runs the command, asserts that it succeeded and returns its stdout (UTF-8).
    pub fn stdout_ok(&self) -> String {
        let output = self.output();
        if !output.status.success() {
            panic!("command failed unexpectedly\n{}", self.report(&output));
        }
        String::from_utf8(output.stdout)
            .unwrap_or_else(|e| panic!("stdout is not UTF-8 ({e})\n{}", self.describe()))
    }

    /// Runs the command, asserts that it failed (non-zero exit) **and printed nothing on
    /// stdout** (a failing plugin must not emit partial manifests), and returns the output.
    pub fn expect_failure(&self) -> Output {
        let output = self.output();
        if output.status.success() {
            panic!(
                "command succeeded but was expected to fail\n{}",
                self.report(&output)
            );
        }
        if !output.stdout.is_empty() {
            panic!("failing command wrote to stdout\n{}", self.report(&output));
        }
        output
    }

    /// Like [`Cmd::expect_failure`], returning stderr as text (lossy UTF-8).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.expect_failure().stderr).into_owned()
    }

    /// The command line, cwd and environment set by the test.
    pub fn describe(&self) -> String {
        let mut s = format!("{:?}", self.program);
        for a in &self.args {
            s.push(' ');
            s.push_str(&format!("{a:?}"));
        }
        if let Some(cwd) = &self.cwd {
            s.push_str(&format!("\n  cwd: {}", cwd.display()));
        }
        for (k, v) in &self.env {
            s.push_str(&format!("\n  env: {}={:?}", k.to_string_lossy(), v));
        }
        if let Some(stdin) = &self.stdin {
            s.push_str(&format!("\n  stdin: {} bytes", stdin.len()));
        }
        s
    }

    fn report(&self, output: &Output) -> String {
        format!(
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.describe(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

impl Default for Cmd {
    fn default() -> Self {
        Self::new()
    }
}
