//! [`Subprocess`]: a child process whose pipes are [`IoStream`]s (Tornado's
//! `tornado.process.Subprocess` with `stdin/stdout/stderr=Subprocess.STREAM`).

use std::io;
use std::pin::Pin;
use std::process::ExitStatus;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use super::ProcessError;
use crate::iostream::IoStream;

/// One of a child's pipes, as a stream: the child's standard input (write only) or its
/// output or error (read only; Tornado's `PipeIOStream`). Reading a write-only pipe or
/// writing a read-only one is an `Unsupported` error.
#[derive(Debug)]
pub enum Pipe {
    /// The child's standard input: we write.
    Stdin(ChildStdin),
    /// The child's standard output: we read.
    Stdout(ChildStdout),
    /// The child's standard error: we read.
    Stderr(ChildStderr),
}

/// The error for the wrong direction.
fn wrong_direction(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("cannot {what} this pipe"),
    )
}

impl AsyncRead for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Pipe::Stdout(pipe) => Pin::new(pipe).poll_read(cx, buf),
            Pipe::Stderr(pipe) => Pin::new(pipe).poll_read(cx, buf),
            Pipe::Stdin(_) => Poll::Ready(Err(wrong_direction("read from"))),
        }
    }
}

impl AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Pipe::Stdin(pipe) => Pin::new(pipe).poll_write(cx, buf),
            _ => Poll::Ready(Err(wrong_direction("write to"))),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Pipe::Stdin(pipe) => Pin::new(pipe).poll_flush(cx),
            _ => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            // Closing the child's standard input is how it learns the input ended.
            Pipe::Stdin(pipe) => Pin::new(pipe).poll_shutdown(cx),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// A child process (Tornado's `Subprocess`): the pipes set to `Stdio::piped()` on the command
/// become [`IoStream`]s, and [`wait_for_exit`](Self::wait_for_exit) is a future. Needs a
/// running loop (an actix System).
///
/// ```
/// use std::process::Stdio;
/// use cyclone_actors::process::Subprocess;
/// use tokio::process::Command;
///
/// cyclone_actors::runtime::run(async {
///     let mut command = Command::new("tr");
///     command.arg("a-z").arg("A-Z").stdin(Stdio::piped()).stdout(Stdio::piped());
///     let mut child = Subprocess::spawn(command).unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write(&b"hello\n"[..]).await.unwrap();
///     drop(stdin); // end of input
///     let mut stdout = child.stdout.take().unwrap();
///     assert_eq!(&stdout.read_until(b"\n", None).await.unwrap()[..], b"HELLO\n");
///     assert!(child.wait_for_exit(true).await.unwrap().success());
/// });
/// ```
#[derive(Debug)]
pub struct Subprocess {
    /// The child; killed if this is dropped while it runs (`kill_on_drop`).
    child: Child,
    /// The child's standard input, if piped.
    pub stdin: Option<IoStream<Pipe>>,
    /// The child's standard output, if piped.
    pub stdout: Option<IoStream<Pipe>>,
    /// The child's standard error, if piped.
    pub stderr: Option<IoStream<Pipe>>,
}

impl Subprocess {
    /// Starts `command`; its piped standard streams become [`stdin`](Self::stdin),
    /// [`stdout`](Self::stdout) and [`stderr`](Self::stderr). The child is killed if the
    /// `Subprocess` is dropped before it exits (no orphans from an abandoned request).
    pub fn spawn(mut command: Command) -> Result<Subprocess, ProcessError> {
        command.kill_on_drop(true);
        let mut child = command.spawn()?;
        Ok(Subprocess {
            stdin: child
                .stdin
                .take()
                .map(|pipe| IoStream::new(Pipe::Stdin(pipe))),
            stdout: child
                .stdout
                .take()
                .map(|pipe| IoStream::new(Pipe::Stdout(pipe))),
            stderr: child
                .stderr
                .take()
                .map(|pipe| IoStream::new(Pipe::Stderr(pipe))),
            child,
        })
    }

    /// The child's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the child to exit (Tornado's `wait_for_exit`): its status, or with
    /// `raise_error` a failure status as [`ProcessError::Failed`]. Cancel-safe: dropping the
    /// future leaves the child running.
    pub async fn wait_for_exit(&mut self, raise_error: bool) -> Result<ExitStatus, ProcessError> {
        let status = self.child.wait().await?;
        if raise_error && !status.success() {
            return Err(ProcessError::Failed(status));
        }
        Ok(status)
    }

    /// Kills the child (SIGKILL).
    pub async fn kill(&mut self) -> Result<(), ProcessError> {
        Ok(self.child.kill().await?)
    }
}
