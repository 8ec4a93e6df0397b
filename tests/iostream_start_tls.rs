//! `IoStream::start_tls` (Tornado's `IOStream.start_tls`): a plain conversation that agrees to
//! switch, as SMTP's STARTTLS does, then both ends upgrade the same connection; and the switch
//! refused while bytes are read but unconsumed.

mod support;

use cyclone::iostream::{IoStream, StartTlsError, TcpStream};
use cyclone::tcpclient::TcpClient;
use support::tls::Pki;

#[cyclone::test(timeout = 20)]
async fn a_plain_connection_switches_to_tls_as_starttls() {
    let pki = Pki::generate();
    let server_tls = pki.server().build().unwrap();
    let client_tls = pki.client();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();

    let server = async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut plain = IoStream::new(socket);
        plain.write(&b"220 ready\n"[..]).await.unwrap();
        assert_eq!(
            &plain.read_until(b"\n", None).await.unwrap()[..],
            b"STARTTLS\n"
        );
        plain.write(&b"220 go ahead\n"[..]).await.unwrap();
        let mut secure = plain.start_tls_server(&server_tls).await.unwrap();
        let line = secure.read_until(b"\n", None).await.unwrap();
        secure.write(line).await.unwrap();
        secure.flush().await.unwrap();
    };
    let client = async move {
        let mut plain: IoStream<TcpStream> =
            TcpClient::new().connect("127.0.0.1", port).await.unwrap();
        assert_eq!(
            &plain.read_until(b"\n", None).await.unwrap()[..],
            b"220 ready\n"
        );
        plain.write(&b"STARTTLS\n"[..]).await.unwrap();
        assert_eq!(
            &plain.read_until(b"\n", None).await.unwrap()[..],
            b"220 go ahead\n"
        );
        let mut secure = plain.start_tls("localhost", &client_tls).await.unwrap();
        let session = secure
            .get_ref()
            .and_then(|tls| tls.session())
            .map(|session| session.is_handshaking());
        assert_eq!(session, Some(false), "the handshake is done");
        secure.write(&b"secret\n"[..]).await.unwrap();
        assert_eq!(
            &secure.read_until(b"\n", None).await.unwrap()[..],
            b"secret\n"
        );
    };
    futures::join!(server, client);
}

#[cyclone::test]
async fn unconsumed_bytes_refuse_the_switch() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut plain = IoStream::new(socket);
        // The go-ahead and, too early, more bytes in the same packet.
        plain.write(&b"220 go ahead\nEARLY"[..]).await.unwrap();
        plain.flush().await.unwrap();
        plain
    };
    let client = async move {
        let mut plain = TcpClient::new().connect("127.0.0.1", port).await.unwrap();
        assert_eq!(
            &plain.read_until(b"\n", None).await.unwrap()[..],
            b"220 go ahead\n"
        );
        // The early bytes came in the same write, so the same read buffered them (loopback
        // hands one write to one read).
        let tls = support::tls::Pki::generate().client();
        match plain.start_tls("localhost", &tls).await {
            Err(StartTlsError::PendingRead(5)) => {}
            other => panic!("expected PendingRead(5), got {:?}", other.map(|_| ())),
        }
    };
    let (_server_side, ()) = futures::join!(server, client);
}
