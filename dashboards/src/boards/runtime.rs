//! Runtime: the process collector's CPU, memory and file descriptors, the
//! build, and scrape health.

use shop_contract::metrics::{labels, names};

use super::{base, instance_variable, uid};
use crate::{
    model::{Color, Dashboard, Format, Panel, Query, ThresholdStyle, Thresholds, Unit},
    promql::{legend, rate, sum_by, Selector, INSTANCE_LABEL, UP},
};

pub(super) fn dashboard() -> Dashboard {
    let build = Selector::picked(names::SHOP_BUILD_INFO);
    let up = Selector::picked(UP);
    let cpu = Selector::picked(names::PROCESS_CPU_SECONDS);
    let memory = Selector::picked(names::PROCESS_RESIDENT_MEMORY);
    let open_fds = Selector::picked(names::PROCESS_OPEN_FDS);
    let max_fds = Selector::picked(names::PROCESS_MAX_FDS);
    let fd_thresholds = Thresholds::base(Color::GREEN)
        .above(0.7, Color::ORANGE)
        .above(0.9, Color::RED);

    base(
        uid::RUNTIME,
        "Runtime",
        "The shop processes: CPU, memory, file descriptors, the running build and scrape health.",
    )
    .variable(instance_variable())
    .row("Instances")
    .panel(
        6,
        5,
        Panel::stat("Instances up")
            .description("Instances whose last scrape succeeded.")
            .thresholds(Thresholds::base(Color::RED).above(1.0, Color::GREEN))
            .query(Query::range(sum_by(&[], &up.to_string()))),
    )
    .panel(
        6,
        5,
        Panel::stat("Version").show_field(labels::VERSION).query(
            Query::instant(sum_by(&[labels::VERSION], &build.to_string())).format(Format::Table),
        ),
    )
    .panel(
        12,
        5,
        Panel::table("Build per instance")
            .hide_columns(&["Time", "Value", "__name__", "job"])
            .query(Query::instant(build.to_string()).format(Format::Table)),
    )
    .row("Process")
    .panel(
        12,
        8,
        Panel::timeseries("CPU")
            .unit(Unit::Short)
            .axis_label("cores")
            .min(0.0)
            .query(Query::range(rate(&cpu)).legend(legend(INSTANCE_LABEL))),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Resident memory")
            .unit(Unit::Bytes)
            .min(0.0)
            .query(Query::range(memory.to_string()).legend(legend(INSTANCE_LABEL))),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Open file descriptors vs limit")
            .unit(Unit::Short)
            .min(0.0)
            .query(
                Query::range(open_fds.to_string())
                    .legend(format!("open {}", legend(INSTANCE_LABEL))),
            )
            .query(
                Query::range(max_fds.to_string())
                    .legend(format!("limit {}", legend(INSTANCE_LABEL))),
            ),
    )
    .panel(
        6,
        8,
        Panel::gauge("File descriptors used")
            .description("The fullest instance's open descriptors over its limit.")
            .unit(Unit::Ratio)
            .min(0.0)
            .max(1.0)
            .thresholds(fd_thresholds)
            .query(Query::range(format!("max({open_fds} / {max_fds})"))),
    )
    .panel(
        6,
        8,
        Panel::timeseries("Scrape health")
            .description("1 while Prometheus scrapes the instance's admin port.")
            .unit(Unit::None)
            .min(0.0)
            .max(1.0)
            .thresholds(Thresholds::base(Color::RED).above(1.0, Color::GREEN))
            .threshold_style(ThresholdStyle::Off)
            .query(Query::range(up.to_string()).legend(legend(INSTANCE_LABEL))),
    )
    .build()
}
