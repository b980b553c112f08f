//! Run one tool: argv only (never a shell), stdin `/dev/null`, its own process group, stdout and
//! stderr read concurrently, stdout capped, a deadline after which the whole group is killed
//! (SIGTERM, a short grace, SIGKILL). After the tool exits, whatever it left behind in its group
//! is killed too, like `argocd-cmp-server` does after every request.
//!
//! A process group is not enough: a child that calls `setsid` (or `setpgid`) leaves it, and a
//! daemonizing one also leaves its parent. So every tool also gets a tag in its environment,
//! [`TAG_VAR`]`=<unique per run>`, which its descendants inherit, and after every run, success,
//! failure or timeout, [`sweep`] finds every process carrying the tag (`/proc/<pid>/environ`),
//! stops them all (so none can fork while the list is made), then kills them.
//!
//! This process is also made the subreaper of its descendants, so orphans of a tool come back
//! to it rather than to init: with no child left after a run, nothing survived and the scan is
//! skipped.
//!
//! What is guaranteed: no descendant of the tool that kept the tagged environment outlives the
//! request, whatever session, group or parent it moved to. Not covered: a descendant that
//! `exec`s with an environment of its own making without the tag (`env -i`), or runs as another
//! user (a setuid program; its environ cannot be read). A cgroup would cover those, but the
//! sidecar's cgroup filesystem is read-only in a normal Kubernetes Pod; `render.timeoutSeconds`
//! still bounds the tool itself.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, Pid, Signal};

use super::{Limits, RenderError};

/// How long a group gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);
/// How much stderr is kept (its tail).
const STDERR_KEEP: usize = 64 * 1024;
/// Requested size of the stdout pipe (Linux's unprivileged maximum, `/proc/sys/fs/pipe-max-size`),
/// also the first capacity of the stdout buffer.
const STDOUT_PIPE_SIZE: usize = 1 << 20;
/// How long a tool that has written something must stay silent before [`run_early`] starts its
/// early work on the output so far. Tools print their whole output in one go at the end (helm,
/// kustomize), so a pause this long usually means the output is complete; when it is not (the
/// tool was descheduled on a busy machine), the early result is dropped, which costs time but
/// never changes the outcome.
pub const QUIET: Duration = Duration::from_millis(3);
/// Output beyond this size gets no early work: a wrong guess would cost at most the early work
/// on this much (it is waited for), and the ~10 ms gained is nothing next to the time a tool
/// takes to print more.
pub const EARLY_MAX_BYTES: usize = 16 << 20;
/// After the tool exits and its group is killed, how long to wait for the pipes to close.
const PIPE_DRAIN: Duration = Duration::from_secs(5);
/// The environment variable that tags a tool and its descendants (see the module docs).
pub const TAG_VAR: &str = "PULLTHROUGH_RUN_TAG";

/// A tag no other run carries: this process's pid, a counter, and the time.
fn new_tag() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}.{n}.{nanos}", std::process::id())
}

/// The processes of this user whose environment holds `TAG_VAR=tag` (this process excluded).
fn tagged(tag: &str) -> Vec<Pid> {
    use std::os::unix::fs::MetadataExt;
    let entry = format!("{TAG_VAR}={tag}");
    let entry = entry.as_bytes();
    let me = std::process::id();
    let uid = rustix::process::geteuid().as_raw();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if pid as u32 == me || e.metadata().map_or(true, |m| m.uid() != uid) {
            continue;
        }
        let Ok(environ) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|var| var == entry) {
            if let Some(pid) = Pid::from_raw(pid) {
                found.push(pid);
            }
        }
    }
    found
}

/// Makes this process the subreaper of its descendants (once): a tool's descendants whose
/// parents exit are re-parented to us instead of to init, so after a tool has exited, any
/// survivor means we have a child. `false` if the kernel refused.
fn subreaper() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        rustix::process::set_child_subreaper(Some(rustix::process::getpid())).is_ok()
    })
}

/// Whether this process has any child (`/proc/self/task/*/children`); `true` when that cannot
/// be read (no `CONFIG_PROC_CHILDREN`), so the caller scans.
fn has_children() -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return true;
    };
    for t in tasks.flatten() {
        match std::fs::read(t.path().join("children")) {
            Ok(list) if list.iter().all(|b| b.is_ascii_whitespace()) => {}
            _ => return true,
        }
    }
    false
}

/// Kills every process carrying `tag`: stops each one found until a scan finds no new one (a
/// stopped process cannot fork), checks each again (a pid may have been reused meanwhile: such
/// a process is continued), then SIGKILL. As a subreaper with no child left, nothing of the
/// tool survives and the scan of `/proc` (a few ms) is skipped.
pub fn sweep(tag: &str) {
    if subreaper() && !has_children() {
        return;
    }
    let mut stopped: Vec<Pid> = Vec::new();
    // Bounded: each round stops at least one new process; a fork bomb of the tool's own user
    // is what the round limit guards against.
    for _ in 0..1000 {
        let new: Vec<Pid> = tagged(tag)
            .into_iter()
            .filter(|p| !stopped.contains(p))
            .collect();
        if new.is_empty() {
            break;
        }
        for pid in new {
            let _ = rustix::process::kill_process(pid, Signal::STOP);
            stopped.push(pid);
        }
    }
    if stopped.is_empty() {
        return;
    }
    let still = tagged(tag);
    let mut killed = Vec::new();
    for pid in stopped {
        if still.contains(&pid) {
            let _ = rustix::process::kill_process(pid, Signal::KILL);
            killed.push(pid);
        } else {
            let _ = rustix::process::kill_process(pid, Signal::CONT);
        }
    }
    // Those re-parented to us are reaped here (SIGKILL ends them at once); for the others this
    // returns at once (not our child).
    for pid in killed {
        let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
    }
}

/// A command to run.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// Added to (or overriding) the inherited environment.
    pub env: Vec<(OsString, OsString)>,
    /// Removed from the inherited environment (variables a tool reads that its Argo CD
    /// counterpart does not).
    pub env_remove: Vec<OsString>,
    /// The command as shown in errors (already redacted).
    pub display: String,
    /// The tool's name for "install …" hints.
    pub tool: String,
    /// When the tool fails, show its first stderr line starting with this (the prefix
    /// removed) instead of the tail, for tools that print their usage after the error
    /// (`kustomize edit`).
    pub error_line: Option<&'static str>,
}

impl Cmd {
    pub fn new(
        program: impl Into<PathBuf>,
        args: Vec<OsString>,
        cwd: impl Into<PathBuf>,
        tool: &str,
    ) -> Cmd {
        let program = program.into();
        let mut argv = vec![program.to_string_lossy().into_owned()];
        argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        Cmd {
            display: display_argv(&argv),
            program,
            args,
            cwd: cwd.into(),
            env: Vec::new(),
            env_remove: Vec::new(),
            tool: tool.to_string(),
            error_line: None,
        }
    }
}

/// What a successful run printed.
#[derive(Debug)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Join argv for display like Argo CD's `GetCommandArgsToLog`: arguments with spaces or quotes
/// are single-quoted.
pub fn display_argv<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| {
            let a = a.as_ref();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The useful tail of a tool's stderr: trimmed, the last 20 lines, at most 4 KiB.
pub fn stderr_tail(stderr: &[u8]) -> String {
    const LINES: usize = 20;
    const BYTES: usize = 4096;
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    let lines: Vec<&str> = text.lines().collect();
    let mut tail = if lines.len() > LINES {
        format!("…\n{}", lines[lines.len() - LINES..].join("\n"))
    } else {
        text.to_string()
    };
    if tail.len() > BYTES {
        let mut cut = tail.len() - BYTES;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail = format!("…{}", &tail[cut..]);
    }
    if tail.is_empty() {
        "(no stderr)".to_string()
    } else {
        tail
    }
}

/// What the thread waiting for the tool, and the stdout reader, report.
enum Event {
    Exited(std::io::Result<ExitStatus>),
    StdoutOverflow,
}

/// How a run ended, before what it printed is judged.
enum Outcome {
    Exited(std::io::Result<ExitStatus>),
    TimedOut,
    Overflow,
}

/// Run `cmd` until `deadline`, keeping at most `limits.max_output_bytes` bytes of stdout.
/// `limits.timeout` is only used in the error text: the deadline is shared by the tool runs of
/// one render call.
///
/// # Errors
/// [`RenderError::Spawn`] when it cannot start, [`RenderError::Timeout`] at the deadline,
/// [`RenderError::OutputTooLarge`] past the cap, [`RenderError::Failed`] (with its stderr's
/// tail) when it exits unsuccessfully.
pub fn run(cmd: &Cmd, deadline: Instant, limits: &Limits) -> Result<Output, RenderError> {
    type NoWork = fn(Vec<u8>) -> (Vec<u8>, Option<()>);
    run_early(cmd, deadline, limits, None::<NoWork>).map(|(out, _)| out)
}

/// [`run`], and `early` started on the tool's stdout as soon as the tool has written something
/// and then nothing more for [`QUIET`], on its own thread, while the tool is still running (helm
/// takes ~10 ms to exit after its last write). `early` gets the bytes read so far and gives them
/// back with its result. The result is returned only if the tool then succeeds without writing
/// another byte, so it is the result `early` would give on the final stdout; otherwise it is
/// dropped (`early` may still be running on a failure; on success with more output it is
/// waited for, to get the bytes back). A panic in `early` is raised again here.
///
/// # Errors
/// As [`run`]; a failure always wins over an early result.
pub fn run_early<T, F>(
    cmd: &Cmd,
    deadline: Instant,
    limits: &Limits,
    early: Option<F>,
) -> Result<(Output, Option<T>), RenderError>
where
    T: Send + 'static,
    F: FnOnce(Vec<u8>) -> (Vec<u8>, Option<T>) + Send + 'static,
{
    let running = Running::start(cmd, limits.max_output_bytes, early)?;
    let outcome = running.wait(deadline);
    let (stdout, stderr) = running.collect();
    judge(cmd, limits, outcome, stdout, stderr)
}

/// A started tool: its process group and its run's tag (to stop it and everything it started),
/// and the channels of the threads that wait for it and read its output. [`Running::wait`]
/// ends it whatever happens; [`Running::collect`] then takes what it printed.
struct Running<T> {
    pgid: Pid,
    tag: String,
    events: mpsc::Receiver<Event>,
    stdout: mpsc::Receiver<Stdout<T>>,
    stderr: mpsc::Receiver<Vec<u8>>,
}

impl<T: Send + 'static> Running<T> {
    /// Spawns `cmd` in its own process group with the run's tag, and starts the threads that
    /// read its stdout (giving `early` its part, see [`run_early`]) and stderr and wait for it.
    fn start<F>(cmd: &Cmd, max_stdout: u64, early: Option<F>) -> Result<Running<T>, RenderError>
    where
        F: FnOnce(Vec<u8>) -> (Vec<u8>, Option<T>) + Send + 'static,
    {
        let tag = new_tag();
        subreaper();
        let mut child = command(cmd, &tag)
            .spawn()
            .map_err(|source| RenderError::Spawn {
                command: cmd.display.clone(),
                tool: cmd.tool.clone(),
                source,
            })?;
        let pgid = Pid::from_child(&child);
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        // A bigger pipe: the tool's large final write (helm prints the whole render at once)
        // goes through in a few wake-ups instead of one per 64 KiB. Refused (e.g. over the
        // user's pipe quota): the default size stays and only speed differs.
        let _ = rustix::pipe::fcntl_setpipe_size(&stdout, STDOUT_PIPE_SIZE);

        let (events_tx, events) = mpsc::channel::<Event>();
        let (out_tx, out_rx) = mpsc::channel::<Stdout<T>>();
        let (err_tx, err_rx) = mpsc::channel::<Vec<u8>>();
        let overflow = events_tx.clone();
        thread::spawn(move || {
            let _ = out_tx.send(read_stdout(stdout, max_stdout, early, &overflow));
        });
        thread::spawn(move || {
            let _ = err_tx.send(read_stderr_tail(stderr));
        });
        thread::spawn(move || {
            let _ = events_tx.send(Event::Exited(child.wait()));
        });
        Ok(Running {
            pgid,
            tag,
            events,
            stdout: out_rx,
            stderr: err_rx,
        })
    }

    /// Waits until the tool exits, overflows the stdout cap or reaches `deadline`. Then nothing
    /// of it is left: a tool still running is stopped ([`Running::terminate`]), and what it
    /// left in its group, or started outside it, is killed ([`sweep`]).
    fn wait(&self, deadline: Instant) -> Outcome {
        let outcome = match self
            .events
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(Event::Exited(status)) => Outcome::Exited(status),
            Ok(Event::StdoutOverflow) => Outcome::Overflow,
            Err(_) => Outcome::TimedOut,
        };
        if !matches!(outcome, Outcome::Exited(_)) {
            self.terminate();
        }
        // The leader is gone; members that outlived it (e.g. ignoring SIGTERM) go too, and so
        // do descendants that left the group.
        let _ = kill_process_group(self.pgid, Signal::KILL);
        sweep(&self.tag);
        outcome
    }

    /// Ends a tool that has not exited: SIGTERM to its group, [`KILL_GRACE`] for the leader to
    /// exit, then SIGKILL, and the leader is reaped.
    fn terminate(&self) {
        let _ = kill_process_group(self.pgid, Signal::TERM);
        let grace_end = Instant::now() + KILL_GRACE;
        let mut exited = false;
        while let Ok(ev) = self
            .events
            .recv_timeout(grace_end.saturating_duration_since(Instant::now()))
        {
            if let Event::Exited(_) = ev {
                exited = true;
                break;
            }
        }
        let _ = kill_process_group(self.pgid, Signal::KILL);
        if !exited {
            // SIGKILL cannot be ignored: the leader is reaped promptly.
            while let Ok(ev) = self.events.recv() {
                if let Event::Exited(_) = ev {
                    break;
                }
            }
        }
    }

    /// What the readers got, once the pipes closed: stdout is `Err` when a process that dropped
    /// the run's tag still holds it open after [`PIPE_DRAIN`]; stderr is then what was read.
    fn collect(self) -> (Result<Stdout<T>, mpsc::RecvTimeoutError>, Vec<u8>) {
        let stdout = self.stdout.recv_timeout(PIPE_DRAIN);
        let stderr = self.stderr.recv_timeout(PIPE_DRAIN).unwrap_or_default();
        (stdout, stderr)
    }
}

/// The process for `cmd`: argv only, stdin `/dev/null`, stdout and stderr piped, its own
/// process group, and the run's `tag` in its environment.
fn command(cmd: &Cmd, tag: &str) -> Command {
    let mut command = Command::new(&cmd.program);
    for k in &cmd.env_remove {
        command.env_remove(k);
    }
    command
        .args(&cmd.args)
        .current_dir(&cmd.cwd)
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .env(TAG_VAR, tag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    command
}

/// The run's result from how it ended and what it printed: the error that explains it, or the
/// output with the early result when that was made from exactly this output.
fn judge<T>(
    cmd: &Cmd,
    limits: &Limits,
    outcome: Outcome,
    stdout: Result<Stdout<T>, mpsc::RecvTimeoutError>,
    stderr: Vec<u8>,
) -> Result<(Output, Option<T>), RenderError> {
    let failed = |status: String, stderr: String| RenderError::Failed {
        command: cmd.display.clone(),
        status,
        stderr,
    };
    let too_large = || RenderError::OutputTooLarge {
        command: cmd.display.clone(),
        limit: limits.max_output_bytes,
    };
    let status = match outcome {
        Outcome::TimedOut => {
            return Err(RenderError::Timeout {
                command: cmd.display.clone(),
                limit: limits.timeout,
            })
        }
        Outcome::Overflow => return Err(too_large()),
        Outcome::Exited(Err(e)) => {
            return Err(failed(
                format!("(waiting for it failed: {e})"),
                stderr_tail(&stderr),
            ))
        }
        Outcome::Exited(Ok(status)) => status,
    };
    let Ok(read) = stdout else {
        return Err(failed(
            "(its stdout was held open by a process that dropped the run's tag from its environment)"
                .to_string(),
            stderr_tail(&stderr),
        ));
    };
    if read.total as u64 > limits.max_output_bytes {
        return Err(too_large());
    }
    if !status.success() {
        let picked = cmd.error_line.and_then(|prefix| {
            String::from_utf8_lossy(&stderr)
                .lines()
                .find_map(|l| l.strip_prefix(prefix).map(|l| l.trim().to_string()))
        });
        return Err(failed(
            exit_text(status),
            picked.unwrap_or_else(|| stderr_tail(&stderr)),
        ));
    }
    let (stdout, result) = read.finish();
    Ok((Output { stdout, stderr }, result))
}

/// The stdout reader (its own thread): reads straight into the result (no bounce buffer), at
/// most one byte over the cap; with `early`, hands what was read to `early` on a thread of its
/// own once the tool has paused ([`read_until_quiet`]). Past the cap it tells `overflow` and
/// closes the pipe, so the tool gets SIGPIPE or is killed.
fn read_stdout<T, F>(
    stdout: ChildStdout,
    max_stdout: u64,
    early: Option<F>,
    overflow: &mpsc::Sender<Event>,
) -> Stdout<T>
where
    T: Send + 'static,
    F: FnOnce(Vec<u8>) -> (Vec<u8>, Option<T>) + Send + 'static,
{
    let cap = max_stdout.saturating_add(1);
    let mut src = stdout.take(cap);
    let mut buf =
        Vec::with_capacity(STDOUT_PIPE_SIZE.min(usize::try_from(cap).unwrap_or(usize::MAX)));
    let mut started = None;
    if let Some(work) = early {
        if read_until_quiet(&mut src, &mut buf) {
            let bytes = std::mem::take(&mut buf);
            let len = bytes.len();
            started = Some((len, thread::spawn(move || work(bytes))));
        }
    }
    // A read error ends the output like EOF; the tool's exit status decides.
    let _ = src.read_to_end(&mut buf);
    let total = started.as_ref().map_or(0, |(len, _)| *len) + buf.len();
    if total as u64 > max_stdout {
        let _ = overflow.send(Event::StdoutOverflow);
        drop(src);
    }
    Stdout {
        rest: buf,
        total,
        started,
    }
}

/// The stderr reader (its own thread): everything the tool writes, of which the last
/// [`STDERR_KEEP`] bytes or more are kept.
fn read_stderr_tail(mut stderr: ChildStderr) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 2 * STDERR_KEEP {
                    buf.drain(..buf.len() - STDERR_KEEP);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    buf
}

/// What the stdout reader hands over at the end of the tool's output.
struct Stdout<T> {
    /// The bytes read after the early work started (all of them when it did not).
    rest: Vec<u8>,
    /// Bytes read in all (at most one over the cap).
    total: usize,
    /// The early work: how many bytes it got, and its thread.
    started: Option<(usize, EarlyThread<T>)>,
}

impl<T> Stdout<T> {
    /// The whole stdout, and the early result if it was made from all of it (the tool wrote
    /// nothing after the pause). Waits for the early work, whose bytes are needed either way.
    fn finish(self) -> (Vec<u8>, Option<T>) {
        let Some((_, work)) = self.started else {
            return (self.rest, None);
        };
        let (mut bytes, result) = work
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        if self.rest.is_empty() {
            (bytes, result)
        } else {
            // The tool wrote more after the pause: the early result is not of this output.
            bytes.extend_from_slice(&self.rest);
            (bytes, None)
        }
    }
}

/// The thread of [`run_early`]'s early work: it gives back the bytes and its result.
type EarlyThread<T> = thread::JoinHandle<(Vec<u8>, Option<T>)>;

/// Reads what the tool writes into `buf` until it has written something and then nothing for
/// [`QUIET`] (true), or until end of output, the cap, an error or more than [`EARLY_MAX_BYTES`]
/// (false; the rest of the reading is left to `read_to_end`). Waiting is `poll` on the pipe: no
/// sleeping, no added latency.
fn read_until_quiet(src: &mut std::io::Take<std::process::ChildStdout>, buf: &mut Vec<u8>) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let quiet = Timespec {
        tv_sec: 0,
        tv_nsec: QUIET.as_nanos() as _,
    };
    while buf.len() <= EARLY_MAX_BYTES {
        let mut fds = [PollFd::new(src.get_ref(), PollFlags::IN)];
        let timeout = if buf.is_empty() { None } else { Some(&quiet) };
        match poll(&mut fds, timeout) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return false,
        }
        // Readable: take exactly what the pipe holds, so the read never blocks. Nothing there
        // means the end of the output.
        let available = rustix::io::ioctl_fionread(src.get_ref()).unwrap_or(0);
        if available == 0 {
            return false;
        }
        match src.by_ref().take(available).read_to_end(buf) {
            Ok(0) | Err(_) => return false, // the cap, or a read error
            Ok(_) => {}
        }
    }
    false
}

fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_like_argo_cd() {
        assert_eq!(
            display_argv(&["helm", "template", ".", "--set", "a=b c"]),
            "helm template . --set 'a=b c'"
        );
        assert_eq!(display_argv(&["x", ""]), "x ''");
        assert_eq!(display_argv(&["x", "it's"]), "x 'it'\\''s'");
    }

    fn sh(script: &str) -> Cmd {
        Cmd::new("/bin/sh", vec!["-c".into(), script.into()], "/", "sh")
    }

    #[test]
    fn stdout_larger_than_the_pipe_arrives_whole() {
        // Several pipe-fulls in writes of many sizes, then a pause and a last line.
        let cmd = sh("yes 0123456789abcdef | head -c 3000007; sleep 0.05; echo end");
        let limits = Limits::default();
        let out = run(&cmd, Instant::now() + Duration::from_secs(20), &limits).unwrap();
        assert_eq!(out.stdout.len(), 3_000_007 + 4);
        assert!(out.stdout.ends_with(b"\nend\n"));
        assert!(out.stdout[..3_000_007]
            .chunks(17)
            .all(|c| c == b"0123456789abcdef\n"));
    }

    #[test]
    fn stdout_cap_holds_beyond_the_pipe_size() {
        let cmd = sh("yes 0123456789abcdef | head -c 5000000; sleep 30");
        let limits = Limits {
            max_output_bytes: 2_500_000,
            ..Limits::default()
        };
        let start = Instant::now();
        let err = run(&cmd, start + Duration::from_secs(20), &limits).unwrap_err();
        assert!(
            matches!(
                err,
                RenderError::OutputTooLarge {
                    limit: 2_500_000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "killed on overflow, not at the deadline"
        );
        // Exactly at the cap is fine.
        let cmd = sh("yes 0123456789abcdef | head -c 2500000");
        assert_eq!(
            run(&cmd, Instant::now() + Duration::from_secs(20), &limits)
                .unwrap()
                .stdout
                .len(),
            2_500_000
        );
    }

    /// Early work that reports the bytes it saw.
    fn seen(bytes: Vec<u8>) -> (Vec<u8>, Option<Vec<u8>>) {
        let copy = bytes.clone();
        (bytes, Some(copy))
    }

    fn run_seen(script: &str) -> Result<(Output, Option<Vec<u8>>), RenderError> {
        let deadline = Instant::now() + Duration::from_secs(20);
        run_early(&sh(script), deadline, &Limits::default(), Some(seen))
    }

    #[test]
    fn early_work_on_output_followed_by_a_pause_counts() {
        let (out, early) = run_seen("printf 'a: 1\n'; sleep 0.2").unwrap();
        assert_eq!(out.stdout, b"a: 1\n");
        assert_eq!(early.as_deref(), Some(&b"a: 1\n"[..]));
    }

    #[test]
    fn early_work_is_dropped_when_more_output_follows() {
        let (out, early) =
            run_seen("printf 'a: 1\n'; sleep 0.2; printf 'b: 2\n'; sleep 0.2").unwrap();
        assert_eq!(out.stdout, b"a: 1\nb: 2\n");
        assert_eq!(early, None);
        // Larger than the pipe, after the pause.
        let (out, early) =
            run_seen("printf 'a\n'; sleep 0.2; yes 0123456789abcdef | head -c 3000007").unwrap();
        assert_eq!(out.stdout.len(), 2 + 3_000_007);
        assert!(out.stdout.starts_with(b"a\n0123456789abcdef\n"));
        assert_eq!(early, None);
    }

    #[test]
    fn no_early_work_on_large_output() {
        let (out, early) = run_seen("yes 0123456789abcdef | head -c 17000000; sleep 0.2").unwrap();
        assert_eq!(out.stdout.len(), 17_000_000);
        assert_eq!(early, None);
    }

    #[test]
    fn a_failure_wins_over_early_work() {
        let err = run_seen("printf 'a: 1\n'; sleep 0.2; echo boom >&2; exit 3").unwrap_err();
        assert!(
            matches!(&err, RenderError::Failed { status, stderr, .. } if status == "exit status 3" && stderr == "boom"),
            "{err}"
        );
        // Nothing written: no early work, a normal result.
        let (out, early) = run_seen("exit 0").unwrap();
        assert!(out.stdout.is_empty() && early.is_none());
    }

    #[test]
    fn early_work_keeps_the_output_cap() {
        let limits = Limits {
            max_output_bytes: 100,
            ..Limits::default()
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let script = "printf 'a: 1\n'; sleep 0.2; yes 0123456789abcdef | head -c 200; sleep 30";
        let err = run_early(&sh(script), deadline, &limits, Some(seen)).unwrap_err();
        assert!(
            matches!(err, RenderError::OutputTooLarge { limit: 100, .. }),
            "{err}"
        );
    }

    #[test]
    fn stderr_tail_keeps_last_lines() {
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let tail = stderr_tail(text.as_bytes());
        assert!(tail.starts_with("…\nline 11\n"), "{tail}");
        assert!(tail.ends_with("line 30"));
        assert_eq!(stderr_tail(b"  Error: boom\n\n"), "Error: boom");
        assert_eq!(stderr_tail(b""), "(no stderr)");
        let long = "x".repeat(10_000);
        let t = stderr_tail(long.as_bytes());
        assert_eq!(t.len(), "…".len() + 4096);
    }
}
