//! What the machine was and how loaded it was: read from /proc, never assumed.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub kernel: String,
    pub cpu_model: String,
    pub cores: usize,
    pub memory_bytes: Option<u64>,
    /// `/proc/loadavg` (1, 5, 15 minutes) before the first and after the last sample.
    pub load_before: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
}

impl Machine {
    /// Describes this host now; `load_after` is filled by [`Machine::finish`].
    pub fn describe() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into());
        let memory_bytes = field(&read("/proc/meminfo"), "MemTotal").and_then(|v| {
            let kib: u64 = v.trim_end_matches("kB").trim().parse().ok()?;
            Some(kib * 1024)
        });
        Machine {
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            cpu_model,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            load_before: loadavg(),
            load_after: None,
        }
    }

    pub fn finish(&mut self) {
        self.load_after = loadavg();
    }

    /// One line for the reports.
    pub fn line(&self) -> String {
        let mem = self.memory_bytes.map_or("unknown memory".into(), |b| {
            format!("{:.1} GiB RAM", b as f64 / (1u64 << 30) as f64)
        });
        format!(
            "Linux {}, {} ({} cores), {}; load average {} before, {} after",
            self.kernel,
            self.cpu_model,
            self.cores,
            mem,
            load_text(self.load_before),
            load_text(self.load_after)
        )
    }
}

fn load_text(l: Option<[f64; 3]>) -> String {
    l.map_or("unknown".into(), |[a, b, c]| {
        format!("{a:.2} {b:.2} {c:.2}")
    })
}

fn field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

fn loadavg() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|s| s.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}
