//! A TCP proxy in front of moto that answers every HTTP request a fixed time later,
//! as a real endpoint's round trip would: moto answers on loopback in a few
//! milliseconds, AWS in tens. Plain std threads, two per connection.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// Starts the proxy for `upstream` (`http://127.0.0.1:port`) and returns its own
/// endpoint. It runs until the process exits.
pub fn start(upstream: &str, latency: Duration) -> String {
    let upstream: SocketAddr = upstream
        .trim_start_matches("http://")
        .parse()
        .expect("a loopback endpoint");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let port = listener.local_addr().expect("proxy address").port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            thread::spawn(move || serve(client, upstream, latency));
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Forwards one connection both ways. The first bytes the client sends after an
/// answer (or at the start) begin a request: they wait `latency` before going on,
/// the rest of the request does not.
fn serve(mut client: TcpStream, upstream: SocketAddr, latency: Duration) {
    let Ok(mut server) = TcpStream::connect(upstream) else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let new_request = Arc::new(AtomicBool::new(true));
    let (Ok(mut from_server), Ok(mut to_client)) = (server.try_clone(), client.try_clone()) else {
        return;
    };
    let answered = new_request.clone();
    let answers = thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(n) = from_server.read(&mut buffer) {
            if n == 0 {
                break;
            }
            answered.store(true, Ordering::SeqCst);
            if to_client.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n) = client.read(&mut buffer) {
        if n == 0 {
            break;
        }
        if new_request.swap(false, Ordering::SeqCst) {
            thread::sleep(latency);
        }
        if server.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = answers.join();
}
