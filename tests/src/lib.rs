//! Test harness: the real pipeline as separate processes.
//!
//! [`Stack::start`] makes sure the local Kafka broker runs (via
//! `scripts/kafka.sh start`, failing loudly if it cannot), creates fresh topics
//! under a unique prefix, and starts ingest, fanout-worker, relation-stream and
//! reader-api from the workspace's built binaries with data in a temp dir. Dropping
//! the stack stops the processes. Nothing here is mocked.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

pub const AUTH_SECRET: &str = "e2e-secret";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Broker address of the local broker started by `scripts/kafka.sh`.
pub fn brokers() -> String {
    let port = std::env::var("KAFKA_PORT").unwrap_or_else(|_| "19092".into());
    format!("127.0.0.1:{port}")
}

/// Starts the local broker if it is not running. Panics with the script's output
/// when it cannot: a test that needs Kafka never passes without it.
pub fn ensure_kafka() {
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/kafka.sh"))
        .arg("start")
        .output()
        .expect("run scripts/kafka.sh");
    assert!(
        output.status.success(),
        "scripts/kafka.sh start failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Directory of the workspace's built binaries (next to this test's executable).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(path.exists(), "{} is not built; run `cargo build --workspace --bins` first (scripts/test.sh does)", path.display());
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind port 0").local_addr().expect("local addr").port()
}

/// A service to start: binary name, arguments, environment.
type ServiceSpec<'a> = (&'static str, Vec<&'a str>, Vec<(&'a str, String)>);

/// Builds the command of a service; kept so the service can be restarted.
type CommandBuilder = Box<dyn Fn() -> Command + Send + Sync>;

/// A child process whose output goes to a log file, killed on drop.
pub struct Service {
    pub name: &'static str,
    child: Child,
    pub log: PathBuf,
    build: CommandBuilder,
}

impl Service {
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Service {
    /// SIGKILL: no shutdown hook runs, as in a crash.
    pub fn crash(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the same command again, appending to the same log.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.child = spawn_logged(&self.build, &self.log)?;
        Ok(())
    }
}

fn spawn_logged(build: &CommandBuilder, log: &Path) -> anyhow::Result<Child> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    Ok(build().stdout(Stdio::from(file.try_clone()?)).stderr(Stdio::from(file)).spawn()?)
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The four services on fresh topics and a fresh data dir.
pub struct Stack {
    pub dir: tempfile::TempDir,
    pub prefix: String,
    pub ingest_url: String,
    pub reader_url: String,
    pub fanout_url: String,
    pub relation_url: String,
    pub services: Vec<Service>,
    pub http: reqwest::Client,
}

impl Stack {
    pub async fn start(name: &str) -> anyhow::Result<Self> {
        ensure_kafka();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
        let prefix = format!("test-{name}-{}-{nanos}-", std::process::id());
        im_kafka::admin::ensure_topics(&brokers(), &im_model::topics::Topics::with_prefix(&prefix)).await?;
        let dir = tempfile::tempdir()?;
        let [ingest, reader, fanout, relation] = [free_port(), free_port(), free_port(), free_port()];
        let mut stack = Stack {
            prefix,
            ingest_url: format!("http://127.0.0.1:{ingest}"),
            reader_url: format!("http://127.0.0.1:{reader}"),
            fanout_url: format!("http://127.0.0.1:{fanout}"),
            relation_url: format!("http://127.0.0.1:{relation}"),
            services: Vec::new(),
            http: reqwest::Client::new(),
            dir,
        };
        let data = stack.dir.path().to_path_buf();
        let common = [
            ("IM_BROKERS", brokers()),
            ("IM_TOPIC_PREFIX", stack.prefix.clone()),
            ("IM_AUTH_SECRET", AUTH_SECRET.to_string()),
            ("RUST_LOG", "info,rdkafka=warn".to_string()),
        ];
        let path = |p: &str| data.join(p).display().to_string();
        let services: [ServiceSpec<'_>; 4] = [
            (
                "fanout-worker",
                vec![],
                vec![("IM_DATA_DIR", path("fanout")), ("IM_FANOUT_HTTP_ADDR", format!("127.0.0.1:{fanout}"))],
            ),
            (
                "relation-stream",
                vec![],
                vec![("IM_RELATION_DATA_DIR", path("relation")), ("IM_RELATION_HTTP_ADDR", format!("127.0.0.1:{relation}"))],
            ),
            ("ingest", vec!["serve"], vec![("IM_INGEST_HTTP_ADDR", format!("127.0.0.1:{ingest}"))]),
            (
                "reader-api",
                vec![],
                vec![
                    ("IM_STORE_PATH", path("fanout/store")),
                    ("IM_READER_SECONDARY_PATH", path("reader/secondary")),
                    ("IM_READER_HTTP_ADDR", format!("127.0.0.1:{reader}")),
                ],
            ),
        ];
        for (name, args, env) in services {
            let program = binary(name);
            let args: Vec<String> = args.into_iter().map(str::to_string).collect();
            let env: Vec<(String, String)> =
                common.iter().cloned().chain(env).map(|(k, v)| (k.to_string(), v)).collect();
            stack.spawn(
                name,
                Box::new(move || {
                    let mut command = Command::new(&program);
                    command.args(&args).envs(env.iter().map(|(k, v)| (k, v)));
                    command
                }),
            )?;
        }
        for url in [&stack.fanout_url, &stack.relation_url, &stack.ingest_url, &stack.reader_url] {
            stack.wait_healthy(url).await?;
        }
        Ok(stack)
    }

    fn spawn(&mut self, name: &'static str, build: CommandBuilder) -> anyhow::Result<()> {
        let log = self.dir.path().join(format!("{name}.log"));
        let child = spawn_logged(&build, &log).with_context(|| format!("spawn {name}"))?;
        self.services.push(Service { name, child, log, build });
        Ok(())
    }

    pub fn service(&mut self, name: &str) -> &mut Service {
        self.services.iter_mut().find(|s| s.name == name).expect("known service")
    }

    /// Logs of every service, for failure messages.
    pub fn logs(&self) -> String {
        self.services.iter().map(|s| format!("--- {} ---\n{}\n", s.name, s.log_tail())).collect()
    }

    pub async fn wait_healthy(&self, url: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(response) = self.http.get(format!("{url}/health")).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{url} did not become healthy\n{}", self.logs())
    }

    /// Waits until fanout-worker and relation-stream have applied everything
    /// published so far and the reader has had time to catch up.
    pub async fn wait_drained(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut quiet = 0;
        while Instant::now() < deadline {
            let fanout: Value = self.http.get(format!("{}/stats", self.fanout_url)).send().await?.json().await?;
            let relation: Value = self.http.get(format!("{}/stats", self.relation_url)).send().await?.json().await?;
            if fanout["lag"] == 0 && relation["lag"] == 0 {
                quiet += 1;
                if quiet >= 2 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return Ok(());
                }
            } else {
                quiet = 0;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("pipeline did not drain within {timeout:?}\n{}", self.logs())
    }

    pub fn token(&self, subject: &str) -> String {
        im_service::auth::mint(AUTH_SECRET, subject)
    }

    pub async fn get(&self, base: &str, path: &str, subject: &str) -> anyhow::Result<(u16, Value)> {
        let response = self.http.get(format!("{base}{path}")).bearer_auth(self.token(subject)).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    pub async fn post(&self, path: &str, subject: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let response = self.http.post(format!("{}{path}", self.ingest_url)).bearer_auth(self.token(subject)).json(body).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Every message item a user gets syncing from zero, following cursors.
    pub async fn sync_all(&self, user: &str, limit: usize) -> anyhow::Result<Vec<Value>> {
        let mut cursor = String::new();
        let mut items = Vec::new();
        loop {
            let (status, page) = self.get(&self.reader_url, &format!("/v1/sync?limit={limit}&cursor={cursor}"), user).await?;
            if status != 200 {
                bail!("sync for {user} answered {status}: {page}");
            }
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            cursor = page["cursor"].as_str().unwrap_or_default().to_string();
            if page["has_more"] != true {
                return Ok(items);
            }
        }
    }
}
