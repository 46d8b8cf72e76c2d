//! HTTPS for real: a TLS front (rustls, a throwaway certificate made with
//! `openssl`) before the mock issuer. The binary's clients use rustls with
//! the ring provider and the platform verifier; these tests show that a
//! refresh goes through when the certificate is trusted and that an
//! untrusted one stops it before any request leaves, with nothing written.

use crate::mock_issuer::MockIssuer;
use crate::support::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// A self-signed certificate for 127.0.0.1 and its key, in `dir`; not a CA
/// (webpki refuses a CA certificate as the server's own).
pub fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
    let install = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/install-test-services.sh");
    assert!(Command::new(install).status().unwrap().success(), "{install} failed");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    (cert, key)
}

/// Terminates TLS on a loopback port and passes each request to `backend`
/// over plain HTTP, one request per connection.
fn tls_front(cert: &Path, key: &Path, backend: &str) -> String {
    let certs = CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let backend = backend.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let (config, backend) = (config.clone(), backend.clone());
            std::thread::spawn(move || {
                let tls = rustls::ServerConnection::new(config).unwrap();
                // A refused handshake ends here; the client reports it.
                let _ = forward(rustls::StreamOwned::new(tls, tcp), &backend);
            });
        }
    });
    url
}

fn forward(
    tls: rustls::StreamOwned<rustls::ServerConnection, TcpStream>,
    backend: &str,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(tls);
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut upstream = TcpStream::connect(backend)?;
    upstream.write_all(&head)?;
    upstream.write_all(&body)?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer)?;
    let mut tls = reader.into_inner();
    tls.write_all(&answer)?;
    tls.conn.send_close_notify();
    tls.flush()
}

#[test]
fn a_refresh_goes_over_tls_to_a_trusted_issuer_only() {
    let mock = MockIssuer::start(&[]);
    let dir = Dir::new();
    let (cert, key) = certificate(dir.root.path(), "issuer");
    let (other, _) = certificate(dir.root.path(), "other");
    let issuer = tls_front(&cert, &key, &mock.url);
    dir.write_store(&serde_json::to_vec_pretty(&mock.codex_file(now() + 3600)).unwrap());
    let before = std::fs::read(dir.auth_file()).unwrap();

    // Only another certificate is trusted: the handshake fails, nothing is
    // sent to the issuer and the store stays as it was.
    let refused =
        run(dir.cli().env("SSL_CERT_FILE", &other).args(["--issuer", &issuer, "refresh", "--force"]));
    assert_ne!(code(&refused), 0);
    assert!(stderr(&refused).contains("certificate"), "{}", stderr(&refused));
    assert_eq!(mock.state().refresh_requests, 0);
    assert_eq!(std::fs::read(dir.auth_file()).unwrap(), before);

    let trusted =
        run(dir.cli().env("SSL_CERT_FILE", &cert).args(["--issuer", &issuer, "refresh", "--force"]));
    assert_eq!(code(&trusted), 0, "{}", stderr(&trusted));
    assert_eq!(mock.state().refresh_requests, 1);
    assert_ne!(std::fs::read(dir.auth_file()).unwrap(), before);
}
