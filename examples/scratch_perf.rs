use stormsim::engine::*;
use stormsim::model::*;
use stormsim::simulate;
/// An M/M/c queue built in code: Poisson(lambda) into c cores and c workers.
fn mmc(lambda: f64, mean_s: f64, c: u32, secs: u64) -> Scenario {
    Scenario {
        name: "mmc".into(),
        description: String::new(),
        duration: SimDuration::from_secs(secs),
        start_clock: None,
        interval: SimDuration::from_secs(secs / 10),
        seed: 1,
        guard: Guard { max_in_flight: 1_000_000, max_events: u64::MAX },
        classes: vec![RequestClass { name: "all".into(), share: 1.0 }],
        sources: vec![Source {
            name: "users".into(),
            client: 0,
            kind: SourceKind::OpenLoop { profile: RateProfile { points: vec![(SimTime::ZERO, lambda)] } },
        }],
        clients: vec![Client {
            name: "caller".into(),
            target: 0,
            timeout: None,
            retry: RetryPolicy {
                max_attempts: 1,
                backoff: Backoff {
                    base: SimDuration::from_millis(100),
                    multiplier: 2.0,
                    cap: SimDuration::from_secs(20),
                    jitter: Jitter::Full,
                },
                retry_on: RetryOn { timeout: true, rejected: true },
            },
        }],
        services: vec![Service {
            name: "server".into(),
            instances: 1,
            cores: c,
            workers: c,
            queue_capacity: None,
            balancer: Balancer::RoundRobin,
            cpu: vec![CpuCost::Exponential { mean: SimDuration::from_secs_f64(mean_s) }],
        }],
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let timeout = args.get(1).is_some();
    let mut s = mmc(if timeout { 6.0 } else { 9.0 }, 1.0, 10, 200_000);
    if timeout {
        s.clients[0].timeout = Some(SimDuration::from_secs(4));
        s.clients[0].retry.max_attempts = 4;
        s.clients[0].retry.retry_on = RetryOn { timeout: true, rejected: false };
        s.clients[0].retry.backoff = Backoff {
            base: SimDuration::from_millis(500),
            multiplier: 2.0,
            cap: SimDuration::from_secs(3600),
            jitter: Jitter::None,
        };
    }
    let t = std::time::Instant::now();
    let out = simulate(&s, 1);
    let wall = t.elapsed().as_secs_f64();
    let ev = out.summary.engine.events.total;
    println!(
        "events={ev} wall={wall:.3} events/s={:.0} wq={:?} amp={}",
        ev as f64 / wall,
        out.summary.services["server"].queue_wait_ms.mean,
        out.summary.requests.amplification
    );
}
