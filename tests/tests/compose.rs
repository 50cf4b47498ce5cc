//! docker-compose.yml cannot run here (no Docker engine), so this checks that it
//! stays honest: it parses, names the four services and Kafka, and every `IM_*`
//! setting it gives a service is one that service's config really reads.

use std::collections::BTreeSet;

use clap::CommandFactory;
use serde_yaml::Value;

fn env_names(command: clap::Command) -> BTreeSet<String> {
    command
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

fn compose() -> Value {
    let text = std::fs::read_to_string(im_tests::repo_root().join("docker-compose.yml")).expect("read docker-compose.yml");
    let mut value: Value = serde_yaml::from_str(&text).expect("docker-compose.yml parses");
    value.apply_merge().expect("merge keys resolve");
    value
}

fn service_env(compose: &Value, service: &str) -> BTreeSet<String> {
    let env = &compose["services"][service]["environment"];
    let mapping = env.as_mapping().unwrap_or_else(|| panic!("{service} has an environment mapping"));
    mapping.keys().filter_map(|k| k.as_str()).filter(|k| k.starts_with("IM_")).map(str::to_string).collect()
}

#[test]
fn compose_names_kafka_and_the_four_services() {
    let compose = compose();
    for service in ["kafka", "ingest", "fanout-worker", "relation-stream", "reader-api"] {
        assert!(compose["services"][service].is_mapping(), "service {service} missing");
    }
}

#[test]
fn compose_settings_are_settings_the_services_read() {
    let compose = compose();
    let services = [
        ("ingest", env_names(<ingest::ServeConfig as clap::Args>::augment_args(clap::Command::new("ingest")))),
        ("fanout-worker", env_names(fanout_worker::Config::command())),
        ("relation-stream", env_names(relation_stream::Config::command())),
        ("reader-api", env_names(reader_api::Config::command())),
    ];
    for (service, reads) in services {
        let given = service_env(&compose, service);
        assert!(given.contains("IM_BROKERS"), "{service} must be given IM_BROKERS");
        let unknown: Vec<_> = given.difference(&reads).collect();
        assert!(unknown.is_empty(), "{service} is given settings it does not read: {unknown:?} (it reads {reads:?})");
    }
}

#[test]
fn compose_creates_the_topics_of_the_contract() {
    let text = std::fs::read_to_string(im_tests::repo_root().join("docker-compose.yml")).unwrap();
    for spec in im_model::topics::Topics::default().specs() {
        let needle = format!("--topic {} --partitions {}", spec.name, spec.partitions);
        assert!(text.contains(&needle), "compose does not create {needle}");
    }
}

#[test]
fn the_kafka_script_creates_the_topics_of_the_contract() {
    let script = std::fs::read_to_string(im_tests::repo_root().join("scripts/kafka.sh")).unwrap();
    for spec in im_model::topics::Topics::default().specs() {
        let needle = format!("\"{}:{}", spec.name, spec.partitions);
        assert!(script.contains(&needle), "scripts/kafka.sh does not create {needle}");
    }
}
