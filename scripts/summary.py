#!/usr/bin/env python3
"""Prints the run summary of scripts/run.sh from the services' own endpoints.

Counts come from fanout-worker's /stats (computed from the store), the sample
sync from reader-api with a token minted the way im_service::auth does.
"""
import argparse
import hashlib
import hmac
import json
import os
import pathlib
import urllib.request

FANOUT = "http://127.0.0.1:9102"
READER = "http://127.0.0.1:8081"


def token(secret: str, subject: str) -> str:
    mac = hmac.new(secret.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return f"{subject}.{mac}"


def get(url: str, subject: str | None = None):
    request = urllib.request.Request(url)
    if subject:
        secret = os.environ.get("IM_AUTH_SECRET", "im-dev-secret-change-me")
        request.add_header("Authorization", f"Bearer {token(secret, subject)}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def sample_user(dataset: str | None, driver_output: str) -> str:
    """A user with traffic: the first sender of the dataset, or the generator's hint."""
    if dataset:
        events = pathlib.Path(dataset)
        events = events / "events" if (events / "events").is_dir() else events
        for path in sorted(events.glob("*.jsonl")):
            for line in path.open():
                event = json.loads(line)
                if event.get("type") == "message":
                    return event["user"]
    for line in pathlib.Path(driver_output).read_text().splitlines():
        if line.startswith("sample user:"):
            return line.split(":", 1)[1].strip()
    return "u0000"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--since", type=float, required=True)
    parser.add_argument("--until", type=float, required=True)
    parser.add_argument("--driver-output", required=True)
    parser.add_argument("--dataset")
    args = parser.parse_args()

    stats = get(f"{FANOUT}/stats")
    driver = pathlib.Path(args.driver_output).read_text().strip().splitlines()
    elapsed = args.until - args.since
    print(f"driver:            {driver[-1] if driver else '(no output)'}")
    print(f"publish to drain:  {elapsed:.1f} s")
    print(f"sessions:          {stats['sessions_write_mode']} write-diffusion, {stats['sessions_read_mode']} read-diffusion")
    print(f"log entries:       {stats['log_entries']} (shared per-session logs)")
    print(f"inbox entries:     {stats['inbox_entries']} across {stats['users_with_inbox']} user inboxes")

    user = sample_user(args.dataset, args.driver_output)
    sessions = get(f"{READER}/v1/sessions", user)["sessions"]
    page = get(f"{READER}/v1/sync?limit=5", user)
    print(f"sample user {user}: {len(sessions)} sessions; first sync page ({len(page['items'])} items, has_more={page['has_more']}):")
    for item in page["items"]:
        text = (item.get("text") or "").replace("\n", " ")[:60]
        print(f"  [{item['session_id']} #{item['seq']}] {item.get('sender', '')}: {text}")


if __name__ == "__main__":
    main()
