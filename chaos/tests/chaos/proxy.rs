//! The fault proxy, toxic by toxic, over real TCP on loopback.

use std::time::{Duration, Instant};

use chaos::{
    proxy::FaultProxy,
    toxiproxy::{NewProxy, Stream, Toxic, Toxiproxy},
};
use serde_json::{json, Map, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{client, echo_server, source_server};

struct Link {
    proxy: FaultProxy,
    api: Toxiproxy,
    listen: String,
}

async fn link_to(upstream: String) -> Link {
    let proxy = FaultProxy::start("127.0.0.1:0").await.unwrap();
    let api = proxy.client();
    let created = api
        .create_proxy(&NewProxy {
            name: "link".into(),
            listen: "127.0.0.1:0".into(),
            upstream,
            enabled: true,
        })
        .await
        .unwrap();
    Link {
        listen: created.listen,
        api,
        proxy,
    }
}

fn toxic(kind: &str, stream: Stream, toxicity: f32, attributes: Value) -> Toxic {
    Toxic {
        name: String::new(),
        kind: kind.into(),
        stream,
        toxicity,
        attributes: attributes.as_object().cloned().unwrap_or_else(Map::new),
    }
}

/// One small round trip through an echo server.
async fn round_trip(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    stream.write_all(b"ping").await.unwrap();
    let mut buffer = [0u8; 4];
    stream.read_exact(&mut buffer).await.unwrap();
    assert_eq!(&buffer, b"ping");
    started.elapsed()
}

async fn median_round_trip(stream: &mut TcpStream, n: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..n {
        times.push(round_trip(stream).await);
    }
    times.sort();
    times[n / 2]
}

#[tokio::test]
async fn latency_adds_its_delay_to_open_and_new_connections() {
    let link = link_to(echo_server().await).await;
    let mut open = TcpStream::connect(&link.listen).await.unwrap();
    let baseline = median_round_trip(&mut open, 5).await;

    link.api
        .add_toxic(
            "link",
            &toxic("latency", Stream::Downstream, 1.0, json!({"latency": 200})),
        )
        .await
        .unwrap();
    let slowed = median_round_trip(&mut open, 5).await;
    let added = slowed.saturating_sub(baseline);
    println!("latency 200 ms: baseline {baseline:?}, with the toxic {slowed:?}, added {added:?}");
    assert!(
        added >= Duration::from_millis(195) && added < Duration::from_millis(400),
        "an already open connection got {added:?} added instead of 200 ms"
    );

    let mut fresh = TcpStream::connect(&link.listen).await.unwrap();
    let fresh_rtt = median_round_trip(&mut fresh, 3).await;
    assert!(
        fresh_rtt >= Duration::from_millis(195),
        "a new connection got {fresh_rtt:?}"
    );

    link.api
        .remove_toxic("link", "latency_downstream")
        .await
        .unwrap();
    let healed = median_round_trip(&mut open, 3).await;
    assert!(
        healed < Duration::from_millis(100),
        "still slow after removal: {healed:?}"
    );
}

#[tokio::test]
async fn jitter_spreads_the_delay_around_the_latency() {
    let link = link_to(echo_server().await).await;
    link.api
        .add_toxic(
            "link",
            &toxic(
                "latency",
                Stream::Upstream,
                1.0,
                json!({"latency": 100, "jitter": 50}),
            ),
        )
        .await
        .unwrap();
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    let mut times = Vec::new();
    for _ in 0..12 {
        times.push(round_trip(&mut stream).await);
    }
    times.sort();
    let (min, max) = (times[0], times[times.len() - 1]);
    println!("latency 100 ms ± 50 ms: round trips from {min:?} to {max:?}");
    assert!(
        min >= Duration::from_millis(48),
        "below latency - jitter: {min:?}"
    );
    assert!(
        max < Duration::from_millis(350),
        "far above latency + jitter: {max:?}"
    );
    assert!(
        max - min >= Duration::from_millis(10),
        "no jitter: {times:?}"
    );
}

#[tokio::test]
async fn bandwidth_limits_the_transfer_rate() {
    const BYTES: usize = 300_000;
    let link = link_to(source_server(BYTES).await).await;
    let read_all = |listen: String| async move {
        let mut stream = TcpStream::connect(&listen).await.unwrap();
        let started = Instant::now();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await.unwrap();
        (received.len(), started.elapsed())
    };
    let (_, unlimited) = read_all(link.listen.clone()).await;

    // 200 KB/s: 300 000 bytes take 1.5 s.
    link.api
        .add_toxic(
            "link",
            &toxic("bandwidth", Stream::Downstream, 1.0, json!({"rate": 200})),
        )
        .await
        .unwrap();
    let (received, limited) = read_all(link.listen.clone()).await;
    let rate = received as f64 / limited.as_secs_f64() / 1000.0;
    println!("bandwidth 200 KB/s: {received} bytes in {limited:?} ({rate:.0} KB/s; unlimited {unlimited:?})");
    assert_eq!(received, BYTES, "bytes went missing");
    assert!(
        rate <= 200.0 * 1.1,
        "{rate:.0} KB/s is over the 200 KB/s limit"
    );
    assert!(
        limited < Duration::from_secs(5),
        "far too slow: {limited:?}"
    );
}

#[tokio::test]
async fn reset_peer_resets_open_and_new_connections() {
    let link = link_to(echo_server().await).await;
    let mut open = TcpStream::connect(&link.listen).await.unwrap();
    round_trip(&mut open).await;

    link.api
        .add_toxic(
            "link",
            &toxic("reset_peer", Stream::Downstream, 1.0, json!({"timeout": 0})),
        )
        .await
        .unwrap();
    let mut buffer = [0u8; 16];
    let error = tokio::time::timeout(Duration::from_secs(5), open.read(&mut buffer))
        .await
        .expect("the open connection was neither reset nor closed")
        .expect_err("the open connection got data or EOF instead of a reset");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");

    let mut fresh = TcpStream::connect(&link.listen).await.unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(5), fresh.read(&mut buffer))
        .await
        .unwrap();
    assert_eq!(
        outcome.map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::ConnectionReset),
        "a new connection was not reset"
    );
}

#[tokio::test]
async fn reset_peer_waits_for_its_timeout() {
    let link = link_to(echo_server().await).await;
    link.api
        .add_toxic(
            "link",
            &toxic("reset_peer", Stream::Upstream, 1.0, json!({"timeout": 300})),
        )
        .await
        .unwrap();
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    let started = Instant::now();
    round_trip(&mut stream).await; // still served before the timeout
    let mut buffer = [0u8; 4];
    let error = stream.read(&mut buffer).await.expect_err("not reset");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(280),
        "reset after {after:?}, before its 300 ms"
    );
}

#[tokio::test]
async fn timeout_lets_nothing_through_then_closes() {
    let link = link_to(echo_server().await).await;
    link.api
        .add_toxic(
            "link",
            &toxic("timeout", Stream::Upstream, 1.0, json!({"timeout": 400})),
        )
        .await
        .unwrap();
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    let started = Instant::now();
    stream.write_all(b"ping").await.unwrap();
    let mut buffer = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
        .await
        .expect("the connection was never closed");
    assert!(
        matches!(read, Ok(0)),
        "data got through a timeout toxic: {read:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "closed early: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn down_refuses_connections_and_up_serves_again_on_the_same_port() {
    let link = link_to(echo_server().await).await;
    let mut open = TcpStream::connect(&link.listen).await.unwrap();
    round_trip(&mut open).await;

    let down = link.api.set_enabled("link", false).await.unwrap();
    assert!(!down.enabled);
    let refused = TcpStream::connect(&link.listen)
        .await
        .expect_err("a down proxy accepted");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let mut buffer = [0u8; 4];
    let cut = tokio::time::timeout(Duration::from_secs(5), open.read(&mut buffer))
        .await
        .unwrap();
    assert!(
        matches!(cut, Ok(0) | Err(_)),
        "an open connection survived: {cut:?}"
    );

    let up = link.api.set_enabled("link", true).await.unwrap();
    assert_eq!(
        up.listen, link.listen,
        "the proxy came back on another address"
    );
    let mut again = TcpStream::connect(&link.listen).await.unwrap();
    round_trip(&mut again).await;
}

#[tokio::test]
async fn toxicity_zero_leaves_traffic_alone() {
    let link = link_to(echo_server().await).await;
    link.api
        .add_toxic(
            "link",
            &toxic("latency", Stream::Downstream, 0.0, json!({"latency": 1000})),
        )
        .await
        .unwrap();
    link.api
        .add_toxic(
            "link",
            &Toxic {
                name: "resets".into(),
                ..toxic("reset_peer", Stream::Downstream, 0.0, json!({"timeout": 0}))
            },
        )
        .await
        .unwrap();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(&link.listen).await.unwrap();
        let rtt = median_round_trip(&mut stream, 3).await;
        assert!(
            rtt < Duration::from_millis(500),
            "a toxic with toxicity 0 applied: {rtt:?}"
        );
    }
}

#[tokio::test]
async fn toxicity_applies_to_a_share_of_connections() {
    let link = link_to(echo_server().await).await;
    link.api
        .add_toxic(
            "link",
            &toxic("latency", Stream::Downstream, 0.5, json!({"latency": 300})),
        )
        .await
        .unwrap();
    let mut slowed = 0;
    for _ in 0..40 {
        let mut stream = TcpStream::connect(&link.listen).await.unwrap();
        if round_trip(&mut stream).await >= Duration::from_millis(290) {
            slowed += 1;
        }
    }
    println!("toxicity 0.5: {slowed} of 40 connections slowed");
    // Binomial(40, 0.5): outside 8..=32 has a probability below 1e-4.
    assert!(
        (8..=32).contains(&slowed),
        "{slowed} of 40 connections slowed"
    );
}

#[tokio::test]
async fn slicer_cuts_data_into_small_pieces() {
    let link = link_to(source_server(200).await).await;
    link.api
        .add_toxic(
            "link",
            &toxic(
                "slicer",
                Stream::Downstream,
                1.0,
                json!({"average_size": 20, "size_variation": 5, "delay": 20000}),
            ),
        )
        .await
        .unwrap();
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    let mut reads = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer).await.unwrap() {
            0 => break,
            n => reads.push(n),
        }
    }
    assert_eq!(reads.iter().sum::<usize>(), 200);
    assert!(
        reads.len() >= 6,
        "200 bytes arrived in {} pieces: {reads:?}",
        reads.len()
    );
    assert!(
        reads.iter().all(|n| *n <= 25),
        "a piece above 25 bytes: {reads:?}"
    );
}

#[tokio::test]
async fn limit_data_closes_after_its_bytes() {
    let link = link_to(source_server(1000).await).await;
    link.api
        .add_toxic(
            "link",
            &toxic("limit_data", Stream::Downstream, 1.0, json!({"bytes": 100})),
        )
        .await
        .unwrap();
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    assert_eq!(received.len(), 100);
}

#[tokio::test]
async fn slow_close_delays_the_close() {
    let link = link_to(source_server(10).await).await;
    link.api
        .add_toxic(
            "link",
            &toxic("slow_close", Stream::Downstream, 1.0, json!({"delay": 300})),
        )
        .await
        .unwrap();
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    assert_eq!(received.len(), 10);
    let closed = started.elapsed();
    assert!(
        closed >= Duration::from_millis(280),
        "closed after {closed:?}, before the 300 ms delay"
    );
}

#[tokio::test]
async fn the_proxy_counts_its_traffic_in_prometheus_metrics() {
    let link = link_to(echo_server().await).await;
    let mut stream = TcpStream::connect(&link.listen).await.unwrap();
    for _ in 0..3 {
        round_trip(&mut stream).await;
    }
    link.api
        .add_toxic(
            "link",
            &toxic("latency", Stream::Downstream, 1.0, json!({"latency": 1})),
        )
        .await
        .unwrap();
    let text = client()
        .get(format!("{}/metrics", link.proxy.api_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let sent = sample(r#"toxiproxy_proxy_sent_bytes_total{direction="downstream""#);
    assert_eq!(sent, 12.0, "three 4-byte answers");
    assert_eq!(
        sample(r#"chaos_proxy_active_connections{proxy="link"}"#),
        1.0
    );
    assert_eq!(
        sample(r#"chaos_proxy_toxics{proxy="link",stream="downstream",type="latency"}"#),
        1.0
    );
    assert_eq!(sample(r#"chaos_proxy_enabled{proxy="link"}"#), 1.0);
}
