//! Trust: a CA the operating system's store holds is trusted without AWS_CA_BUNDLE (a
//! throwaway CA given through SSL_CERT_FILE, as the platform verifier reads it on Linux), an
//! unknown one is refused, and AWS_CA_BUNDLE still replaces the store.

use std::process::{Child, Command, Stdio};

use crate::support::*;

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (tests/run installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway CA and a certificate for 127.0.0.1 signed by it.
fn certificates(dir: &std::path::Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ssoenv test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
}

/// An HTTPS portal that hands out one set of role credentials.
const SERVER: &str = r#"
import http.server, json, ssl, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"roleCredentials": {"accessKeyId": "ASIATLS", "secretAccessKey": "s", "sessionToken": "t", "expiration": int(time.time() + 3600) * 1000}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_systems_trust_store_is_used_and_aws_ca_bundle_still_replaces_it() {
    let s = Sandbox::signed_in();
    let dir = s.dir.path().join("pki");
    std::fs::create_dir_all(&dir).unwrap();
    certificates(&dir);
    let mut child = Command::new(crate::interop::python())
        .args(["-c", SERVER])
        .arg(dir.join("srv.pem"))
        .arg(dir.join("srv.key"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut port,
    )
    .unwrap();
    let _server = Server(child);
    let url = format!("https://127.0.0.1:{}", port.trim());
    let run = |extra: &[(&str, &std::path::Path)]| -> Run {
        let mut c = s.cmd(&["dev"]);
        c.env("AWS_ENDPOINT_URL_SSO", &url)
            .env("SSL_CERT_FILE", s.dir.path().join("no-such-store"));
        for (k, v) in extra {
            c.env(k, v);
        }
        c.output().unwrap().into()
    };
    let empty = s.dir.path().join("empty-store.pem");
    std::fs::write(&empty, "").unwrap();
    // An unknown CA: refused.
    let refused = run(&[("SSL_CERT_FILE", &empty)]);
    assert_eq!(
        (refused.code, refused.stdout.as_str()),
        (1, ""),
        "{}",
        refused.stderr
    );
    // The system's store holds it: trusted, no AWS_CA_BUNDLE needed.
    let ca = dir.join("ca.pem");
    assert!(run(&[("SSL_CERT_FILE", &ca)]).ok().contains("ASIATLS"));
    // AWS_CA_BUNDLE replaces the store.
    let _ = std::fs::remove_file(s.role_cache_path("111111111111", "ReadOnly", "corp"));
    assert!(
        run(&[("SSL_CERT_FILE", &empty), ("AWS_CA_BUNDLE", &ca)])
            .ok()
            .contains("ASIATLS")
    );
}
