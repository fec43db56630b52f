//! One proxied connection: two pumps, client→server (upstream) and
//! server→client (downstream), each applying the toxics of its direction.
//!
//! A pump is a reader and a writer joined by a queue. The reader stamps each
//! chunk with its arrival time and applies the toxics that act on arrival
//! (timeout, reset_peer, limit_data); the writer applies those that act on
//! delivery (latency, bandwidth, slicer, slow_close). Latency therefore delays
//! every chunk from its arrival without slowing the stream down, as in
//! Toxiproxy. Toxics added or removed while the link is open apply to it at
//! once: a pooled database connection feels them too.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU8, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use rand::Rng;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        tcp::{OwnedReadHalf, OwnedWriteHalf},
        TcpStream,
    },
    sync::{mpsc, watch},
    time::{sleep, sleep_until, Instant},
};
use tokio_util::sync::CancellationToken;

use super::{
    metrics::{CloseReason, DirectionCounters},
    toxics::{ActiveToxic, ToxicKind},
};
use crate::toxiproxy::Stream;

pub(crate) type ToxicSet = Arc<Vec<ActiveToxic>>;

/// What the two pumps of a link share.
struct Link {
    /// Cancelled when the link must end at once (a toxic or the proxy said so).
    stop: CancellationToken,
    /// Why it ended, when it did not end by EOF.
    reason: AtomicU8,
    /// Each toxic's toxicity roll for this link, by uid.
    rolls: Mutex<HashMap<u64, bool>>,
}

const REASONS: [CloseReason; 7] = [
    CloseReason::Eof,
    CloseReason::Timeout,
    CloseReason::ResetPeer,
    CloseReason::LimitData,
    CloseReason::Down,
    CloseReason::UpstreamUnreachable,
    CloseReason::Error,
];

impl Link {
    fn end(&self, reason: CloseReason) {
        let code = REASONS.iter().position(|r| *r == reason).unwrap_or(0) as u8;
        // The first reason wins.
        let _ = self
            .reason
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
        self.stop.cancel();
    }

    fn reason(&self) -> CloseReason {
        REASONS[self.reason.load(Ordering::Acquire) as usize]
    }

    fn applies(&self, toxic: &ActiveToxic) -> bool {
        let mut rolls = self.rolls.lock().expect("the rolls lock is never poisoned");
        *rolls
            .entry(toxic.uid)
            .or_insert_with(|| rand::thread_rng().gen::<f32>() < toxic.toxicity)
    }

    /// The toxics of one direction that this link got.
    fn active(&self, all: &[ActiveToxic], stream: Stream) -> Vec<ActiveToxic> {
        all.iter()
            .filter(|t| t.stream == stream && self.applies(t))
            .cloned()
            .collect()
    }
}

/// Proxies `client` to `upstream` until either side is done, a toxic ends
/// the link, or `stop` is cancelled (the proxy went down).
pub(crate) async fn run(
    client: TcpStream,
    upstream: &str,
    toxics: watch::Receiver<ToxicSet>,
    stop: CancellationToken,
    counters: [DirectionCounters; 2],
) -> CloseReason {
    let connect = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(upstream));
    let server = tokio::select! {
        connected = connect => match connected {
            Ok(Ok(server)) => server,
            _ => return CloseReason::UpstreamUnreachable,
        },
        () = stop.cancelled() => return CloseReason::Down,
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let link = Arc::new(Link {
        stop,
        reason: AtomicU8::new(0),
        rolls: Mutex::default(),
    });
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let [up_counters, down_counters] = counters;
    let up = pump(
        client_read,
        server_write,
        Stream::Upstream,
        toxics.clone(),
        link.clone(),
        up_counters,
    );
    let down = pump(
        server_read,
        client_write,
        Stream::Downstream,
        toxics,
        link.clone(),
        down_counters,
    );
    tokio::join!(up, down);
    if link.stop.is_cancelled() {
        match link.reason() {
            CloseReason::Eof => CloseReason::Down,
            reason => reason,
        }
    } else {
        CloseReason::Eof
    }
}

enum Item {
    Data(Instant, Bytes, ToxicSet),
    /// The reader saw EOF: close after this delay (slow_close).
    Eof(Duration),
    /// A limit_data toxic: close once what is queued is written.
    Close,
}

async fn pump(
    from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    stream: Stream,
    toxics: watch::Receiver<ToxicSet>,
    link: Arc<Link>,
    counters: DirectionCounters,
) {
    let (queue, items) = mpsc::channel(256);
    let reader = read_side(from, stream, toxics, &link, queue, &counters);
    let writer = write_side(&mut to, items, &link, &counters);
    tokio::select! {
        _ = async { tokio::join!(reader, writer) } => {}
        () = link.stop.cancelled() => {}
    }
    if link.stop.is_cancelled() && link.reason() == CloseReason::ResetPeer {
        // SO_LINGER 0 makes the close send RST instead of FIN; `forget`
        // keeps the write half from sending a FIN first.
        let _ = socket2::SockRef::from(to.as_ref()).set_linger(Some(Duration::ZERO));
        to.forget();
    }
}

/// The reader: arrival-time toxics. Returns when the source is done or the
/// link must end.
async fn read_side(
    mut from: OwnedReadHalf,
    stream: Stream,
    mut toxics: watch::Receiver<ToxicSet>,
    link: &Link,
    queue: mpsc::Sender<Item>,
    counters: &DirectionCounters,
) {
    let mut all = toxics.borrow_and_update().clone();
    let mut active: ToxicSet = Arc::new(link.active(&all, stream));
    // When this link first saw each toxic, and bytes let through since (limit_data).
    let mut since: HashMap<u64, Instant> = HashMap::new();
    let mut passed: HashMap<u64, u64> = HashMap::new();
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let now = Instant::now();
        for toxic in active.iter() {
            since.entry(toxic.uid).or_insert(now);
        }
        let deadline = deadline(&active, &since);
        tokio::select! {
            changed = toxics.changed() => {
                if changed.is_err() {
                    return; // The proxy is gone; `stop` follows.
                }
                all = toxics.borrow_and_update().clone();
                active = Arc::new(link.active(&all, stream));
            }
            () = sleep_until(deadline.map_or(now, |(at, _)| at)), if deadline.is_some() => {
                if let Some((_, reason)) = deadline {
                    link.end(reason);
                }
                return;
            }
            read = from.read(&mut buffer) => {
                let n = match read {
                    Ok(0) => {
                        let delay = active.iter().map(|t| match t.kind {
                            ToxicKind::SlowClose { delay } => delay,
                            _ => 0,
                        }).max().unwrap_or(0);
                        let _ = queue.send(Item::Eof(Duration::from_millis(delay))).await;
                        return;
                    }
                    Ok(n) => n,
                    Err(_) => {
                        link.end(CloseReason::Error);
                        return;
                    }
                };
                // Stamped now: the loop may have waited long for this read.
                let arrived = Instant::now();
                counters.received.inc_by(n as u64);
                if active.iter().any(|t| matches!(t.kind, ToxicKind::Timeout { .. })) {
                    continue; // Dropped: nothing gets through a timeout toxic.
                }
                let mut allowed = n as u64;
                let mut limit_reached = false;
                for toxic in active.iter() {
                    if let ToxicKind::LimitData { bytes } = toxic.kind {
                        let done = passed.entry(toxic.uid).or_default();
                        let left = bytes.saturating_sub(*done);
                        allowed = allowed.min(left);
                        limit_reached |= *done + allowed >= bytes;
                    }
                }
                for toxic in active.iter() {
                    if matches!(toxic.kind, ToxicKind::LimitData { .. }) {
                        *passed.entry(toxic.uid).or_default() += allowed;
                    }
                }
                if allowed > 0 {
                    let chunk = Bytes::copy_from_slice(&buffer[..allowed as usize]);
                    if queue.send(Item::Data(arrived, chunk, active.clone())).await.is_err() {
                        return;
                    }
                }
                if limit_reached {
                    let _ = queue.send(Item::Close).await;
                    return;
                }
            }
        }
    }
}

/// The earliest moment a timeout or reset_peer toxic ends the link.
fn deadline(
    active: &[ActiveToxic],
    since: &HashMap<u64, Instant>,
) -> Option<(Instant, CloseReason)> {
    active
        .iter()
        .filter_map(|t| {
            let start = *since.get(&t.uid)?;
            match t.kind {
                ToxicKind::Timeout { timeout } if timeout > 0 => {
                    Some((start + Duration::from_millis(timeout), CloseReason::Timeout))
                }
                ToxicKind::ResetPeer { timeout } => Some((
                    start + Duration::from_millis(timeout),
                    CloseReason::ResetPeer,
                )),
                _ => None,
            }
        })
        .min_by_key(|(at, _)| *at)
}

/// The writer: delivery-time toxics.
async fn write_side(
    to: &mut OwnedWriteHalf,
    mut items: mpsc::Receiver<Item>,
    link: &Link,
    counters: &DirectionCounters,
) {
    while let Some(item) = items.recv().await {
        match item {
            Item::Data(arrived, chunk, toxics) => {
                sleep_until(arrived + latency(&toxics)).await;
                if deliver(to, &chunk, &toxics, counters).await.is_err() {
                    link.end(CloseReason::Error);
                    return;
                }
            }
            Item::Eof(delay) => {
                sleep(delay).await;
                let _ = to.shutdown().await;
                return;
            }
            Item::Close => {
                let _ = to.flush().await;
                link.end(CloseReason::LimitData);
                return;
            }
        }
    }
}

fn latency(toxics: &[ActiveToxic]) -> Duration {
    let mut rng = rand::thread_rng();
    let ms: i64 = toxics
        .iter()
        .map(|t| match t.kind {
            ToxicKind::Latency { latency, jitter } => {
                let jitter = jitter as i64;
                latency as i64
                    + if jitter > 0 {
                        rng.gen_range(-jitter..=jitter)
                    } else {
                        0
                    }
            }
            _ => 0,
        })
        .sum();
    Duration::from_millis(ms.max(0) as u64)
}

/// Writes one chunk, paced by bandwidth and cut by slicer toxics.
async fn deliver(
    to: &mut OwnedWriteHalf,
    chunk: &[u8],
    toxics: &[ActiveToxic],
    counters: &DirectionCounters,
) -> std::io::Result<()> {
    let rate = toxics
        .iter()
        .filter_map(|t| match t.kind {
            ToxicKind::Bandwidth { rate } if rate > 0 => Some(rate * 1000),
            _ => None,
        })
        .min();
    let slicer = toxics.iter().find_map(|t| match t.kind {
        ToxicKind::Slicer {
            average_size,
            size_variation,
            delay,
        } if average_size > 0 => Some((average_size, size_variation, delay)),
        _ => None,
    });
    let mut rest = chunk;
    while !rest.is_empty() {
        let mut size = rest.len() as u64;
        if let Some((average, variation, _)) = slicer {
            let variation = variation.min(average - 1) as i64;
            let offset = if variation > 0 {
                rand::thread_rng().gen_range(-variation..=variation)
            } else {
                0
            };
            size = size.min((average as i64 + offset).max(1) as u64);
        }
        if let Some(bytes_per_second) = rate {
            // Pieces of at most 100 ms worth keep the pacing smooth.
            size = size.min((bytes_per_second / 10).max(1));
        }
        let (piece, tail) = rest.split_at(size as usize);
        to.write_all(piece).await?;
        counters.sent.inc_by(piece.len() as u64);
        rest = tail;
        if let Some(bytes_per_second) = rate {
            sleep(Duration::from_secs_f64(
                piece.len() as f64 / bytes_per_second as f64,
            ))
            .await;
        }
        if let Some((_, _, delay_us)) = slicer {
            if !rest.is_empty() {
                sleep(Duration::from_micros(delay_us)).await;
            }
        }
    }
    Ok(())
}
