//! tornado.process: `fork_processes` workers sharing one listening socket (the
//! `fork_hello` example, over real sockets), a dead worker restarted with its task id, workers
//! stopping with their parent; `Subprocess` pipes as streams and `wait_for_exit`.

mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use support::examples::{Printing, get_body};

use cyclone::process::{ProcessError, Subprocess};

/// `task N started (pid P)` as (N, P).
fn started(line: &str) -> (usize, u32) {
    let rest = line
        .strip_prefix("task ")
        .unwrap_or_else(|| panic!("not a start line: {line:?}"));
    let (task, rest) = rest.split_once(" started (pid ").unwrap();
    (
        task.parse().unwrap(),
        rest.trim_end_matches(')').parse().unwrap(),
    )
}

#[test]
fn workers_share_the_socket_and_a_dead_one_is_restarted() {
    let parent = Printing::start("fork_hello", &["--port=0", "--processes=2"]);
    let next = || parent.next_line("a line from fork_hello");

    let first = next();
    let address: SocketAddr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected {first:?}"))
        .parse()
        .unwrap();
    let mut workers = [started(&next()), started(&next())];
    workers.sort();
    assert_eq!([workers[0].0, workers[1].0], [0, 1], "{workers:?}");
    assert_ne!(
        workers[0].1,
        parent.running.0.id(),
        "workers are processes of their own"
    );

    // Every answer comes from one of the two workers, through the socket the parent bound.
    for _ in 0..10 {
        let body = get_body(address, "/").expect("an answer");
        assert!(
            workers
                .iter()
                .any(|(task, pid)| body == format!("task {task} (pid {pid})")),
            "{body:?} from none of {workers:?}"
        );
    }

    // A worker that dies abnormally is started again, with the same task id.
    assert_eq!(
        get_body(address, "/crash"),
        None,
        "the worker exits without answering"
    );
    let (task, pid) = started(&next());
    assert!(task < 2);
    assert!(workers.iter().all(|(_, old)| *old != pid), "a new process");
    assert!(get_body(address, "/").is_some());

    // The workers stop with their parent.
    let worker_pids: Vec<u32> = vec![pid, workers[1 - task].1];
    drop(parent);
    support::wait::blocking_until("the workers are gone with their parent", || {
        worker_pids
            .iter()
            .all(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists() || is_zombie(*pid))
    });
}

/// Whether `pid` has exited and waits to be reaped (by init, now its parent is gone).
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.split(") ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('Z'))
        })
        .unwrap_or(true)
}

#[test]
fn subprocess_pipes_are_streams() {
    support::wait::on_own_thread(Duration::from_secs(30), || {
        cyclone::run(async {
            let mut command = tokio::process::Command::new("sh");
            command
                .args([
                    "-c",
                    "read line; echo \"out:$line\"; echo \"err:$line\" >&2; exit 3",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = Subprocess::spawn(command).unwrap();
            assert!(child.pid().is_some());
            let mut stdin = child.stdin.take().unwrap();
            stdin.write(&b"hello\n"[..]).await.unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let mut stderr = child.stderr.take().unwrap();
            assert_eq!(
                &stdout.read_until(b"\n", None).await.unwrap()[..],
                b"out:hello\n"
            );
            assert_eq!(
                &stderr.read_until(b"\n", None).await.unwrap()[..],
                b"err:hello\n"
            );
            // A pipe has one direction.
            assert!(stdout.write(&b"x"[..]).await.is_err());
            let status = child.wait_for_exit(false).await.unwrap();
            assert_eq!(status.code(), Some(3));
        });
        cyclone::run(async {
            let child = tokio::process::Command::new("false");
            let mut child = Subprocess::spawn(child).unwrap();
            assert!(matches!(
                child.wait_for_exit(true).await,
                Err(ProcessError::Failed(status)) if status.code() == Some(1)
            ));
            let missing = tokio::process::Command::new("/nonexistent/program");
            assert!(matches!(
                Subprocess::spawn(missing),
                Err(ProcessError::Io(_))
            ));
        });
    });
}
