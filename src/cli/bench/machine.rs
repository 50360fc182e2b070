//! The machine a bench ran on, as its report names it: the CPU's model and SIMD features, and
//! the kernels tract and lookout's INT8 rewrite pick on it.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Machine {
    /// The CPU's model (x86: `model name`; arm64: the core named from its `CPU part`, and the
    /// board's `Model` where the kernel gives one) and the SIMD features that decide tract's kernels.
    pub cpu: String,
    pub logical_cpus: usize,
    pub os: String,
    /// The instruction sets tract uses here, as tract sees them (after `TRACT_CPU_ISA`).
    pub tract_isa: String,
    /// The int8 matrix kernel tract picks here (detect::rewrite::int8_kernel), and whether the
    /// INT8 model's convolutions are rewritten (onto a dot-product kernel of tract's, or onto
    /// lookout's AVX2 one), with the kernel they run on.
    pub int8_kernel: Option<String>,
    pub int8_rewrite: bool,
    pub int8_rewrite_kernel: Option<String>,
}

/// arm64 cores by `CPU part` (ARM Ltd, implementer 0x41), as /proc/cpuinfo reports them.
const ARM_PARTS: [(&str, &str); 22] = [
    ("0xd03", "Cortex-A53"),
    ("0xd04", "Cortex-A35"),
    ("0xd05", "Cortex-A55"),
    ("0xd07", "Cortex-A57"),
    ("0xd08", "Cortex-A72"),
    ("0xd09", "Cortex-A73"),
    ("0xd0a", "Cortex-A75"),
    ("0xd0b", "Cortex-A76"),
    ("0xd0c", "Neoverse-N1"),
    ("0xd0d", "Cortex-A77"),
    ("0xd40", "Neoverse-V1"),
    ("0xd41", "Cortex-A78"),
    ("0xd42", "Cortex-A78AE"),
    ("0xd44", "Cortex-X1"),
    ("0xd46", "Cortex-A510"),
    ("0xd47", "Cortex-A710"),
    ("0xd48", "Cortex-X2"),
    ("0xd49", "Neoverse-N2"),
    ("0xd4b", "Cortex-A78C"),
    ("0xd4f", "Neoverse-V2"),
    ("0xd80", "Cortex-A520"),
    ("0xd81", "Cortex-A720"),
];

/// The value of the first `/proc/cpuinfo` line starting with `key`.
fn cpuinfo_value<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with(key) && l[key.len()..].trim_start().starts_with(':'))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim())
}

/// The CPU's model from /proc/cpuinfo: x86's `model name`; on arm64 the cores' names from their
/// `CPU part` numbers (big.LITTLE boards list two) and the board's `Model` line where present.
fn cpu_model(cpuinfo: &str) -> String {
    if let Some(name) = cpuinfo_value(cpuinfo, "model name") {
        return name.to_string();
    }
    let mut cores: Vec<String> = Vec::new();
    for part in cpuinfo
        .lines()
        .filter(|l| l.starts_with("CPU part"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
    {
        let name = ARM_PARTS
            .iter()
            .find(|(p, _)| *p == part)
            .map(|(_, n)| n.to_string())
            .unwrap_or_else(|| format!("CPU part {part}"));
        if !cores.contains(&name) {
            cores.push(name);
        }
    }
    let mut model = if cores.is_empty() {
        std::env::consts::ARCH.to_string()
    } else {
        cores.join(" + ")
    };
    if let Some(board) = cpuinfo_value(cpuinfo, "Model") {
        model = format!("{board}, {model}");
    }
    model
}

impl Machine {
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpu_model(&cpuinfo);
        // x86 `flags`, arm64 `Features`
        let flags = cpuinfo_value(&cpuinfo, "flags")
            .or_else(|| cpuinfo_value(&cpuinfo, "Features"))
            .unwrap_or("");
        let simd: Vec<&str> = [
            "avx2",
            "fma",
            "avx512f",
            "avx512_vnni",
            "avx_vnni",
            "amx_int8",
            "asimd",
            "asimdhp",
            "asimddp",
            "i8mm",
            "sve",
            "sve2",
        ]
        .into_iter()
        .filter(|f| flags.split_whitespace().any(|x| x == *f))
        .collect();
        let int8_kernel = lookout::detect::rewrite::int8_kernel();
        Machine {
            cpu: if simd.is_empty() {
                cpu
            } else {
                format!("{cpu} ({})", simd.join(" "))
            },
            logical_cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            tract_isa: format!("{:?}", tract_linalg::isa::native()),
            int8_rewrite: lookout::detect::rewrite::enabled()
                && lookout::detect::rewrite::int8_kernels_available(),
            int8_rewrite_kernel: lookout::detect::rewrite::int8_rewrite_kernel()
                .filter(|_| lookout::detect::rewrite::enabled()),
            int8_kernel,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_names_x86_and_arm64_cpus() {
        let x86 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu avx2\n";
        assert_eq!(cpu_model(x86), "AMD EPYC 7B13");
        // a Raspberry Pi 5 (four Cortex-A76), as its kernel writes /proc/cpuinfo
        let pi5 = "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: 0xd0b\nCPU revision\t: 1\n\nprocessor\t: 1\nCPU part\t: 0xd0b\n\nRevision\t: d04170\nSerial\t\t: 0\nModel\t\t: Raspberry Pi 5 Model B Rev 1.0\n";
        assert_eq!(cpu_model(pi5), "Raspberry Pi 5 Model B Rev 1.0, Cortex-A76");
        assert_eq!(
            cpuinfo_value(pi5, "Features").map(|f| f.ends_with("asimddp")),
            Some(true)
        );
        // big.LITTLE, and a part lookout does not know
        let mixed = "CPU part\t: 0xd05\nCPU part\t: 0xd0b\nCPU part\t: 0xfff\n";
        assert_eq!(cpu_model(mixed), "Cortex-A55 + Cortex-A76 + CPU part 0xfff");
    }
}
