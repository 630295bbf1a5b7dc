//! A real SMTP server (RFC 5321) for the tests: it accepts connections on a loopback port,
//! speaks the protocol to lettre exactly as a mail server would, and keeps what it receives.
//! It can be switched to refuse service (421) to play a mail server that is down, or to take
//! its time over each message, to play a slow one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct Envelope {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Envelope>>>,
    arrived: Arc<Notify>,
    refusing: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            received: Arc::default(),
            arrived: Arc::new(Notify::new()),
            refusing: Arc::new(AtomicBool::new(false)),
            delay_ms: Arc::default(),
        };
        let server = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let connection = server.clone();
                tokio::spawn(async move {
                    let _ = connection.serve(stream).await;
                });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// While refusing, every connection is answered "421 service not available" and closed.
    pub fn set_refusing(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Each message is accepted only this long after its data arrived.
    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Envelope> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until a message for `recipient` has arrived and returns the newest one.
    pub async fn wait_for(&self, recipient: &str, count: usize) -> Envelope {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.arrived.notified();
            let matching: Vec<Envelope> = self
                .received()
                .into_iter()
                .filter(|e| e.to.iter().any(|t| t == recipient))
                .collect();
            if matching.len() >= count {
                return matching[count - 1].clone();
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("no mail number {count} for {recipient} within 10 s");
            }
        }
    }

    async fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        if self.refusing.load(Ordering::SeqCst) {
            write
                .write_all(b"421 4.3.2 sink.test Service not available\r\n")
                .await?;
            return Ok(());
        }
        write
            .write_all(b"220 sink.test ESMTP test sink\r\n")
            .await?;
        let mut from = String::new();
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_owned();
            let verb = command
                .split([' ', ':'])
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => {
                    write
                        .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                        .await?
                }
                "HELO" => write.write_all(b"250 sink.test\r\n").await?,
                "MAIL" if self.refusing.load(Ordering::SeqCst) => {
                    // Also on a pooled connection opened before the server "went down".
                    write
                        .write_all(b"421 4.3.2 sink.test Service not available\r\n")
                        .await?;
                    return Ok(());
                }
                "MAIL" => {
                    from = angle_address(&command);
                    to.clear();
                    write.write_all(b"250 2.1.0 OK\r\n").await?;
                }
                "RCPT" => {
                    to.push(angle_address(&command));
                    write.write_all(b"250 2.1.5 OK\r\n").await?;
                }
                "DATA" => {
                    write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let data = read_data(&mut lines).await?;
                    let delay = self.delay_ms.load(Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    self.received.lock().unwrap().push(Envelope {
                        from: from.clone(),
                        to: to.clone(),
                        data,
                    });
                    self.arrived.notify_waiters();
                    write.write_all(b"250 2.0.0 queued\r\n").await?;
                }
                "RSET" | "NOOP" => write.write_all(b"250 2.0.0 OK\r\n").await?,
                "QUIT" => {
                    write.write_all(b"221 2.0.0 bye\r\n").await?;
                    return Ok(());
                }
                _ => {
                    write
                        .write_all(b"502 5.5.2 command not recognized\r\n")
                        .await?
                }
            }
        }
    }
}

fn angle_address(command: &str) -> String {
    let start = command.find('<').map(|i| i + 1).unwrap_or(0);
    let end = command[start..]
        .find('>')
        .map(|i| start + i)
        .unwrap_or(command.len());
    command[start..end].to_owned()
}

/// Reads the DATA section up to the lone "." line, undoing dot-stuffing (RFC 5321 §4.5.2).
async fn read_data(
    lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(data);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(data);
        }
        let content = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(content);
    }
}
