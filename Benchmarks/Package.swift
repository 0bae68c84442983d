// swift-tools-version: 6.1
// Throughput benchmarks of the event log, each next to the peer it is judged against.
// Run with scripts/bench (release build); see the README's Performance section.
import PackageDescription

let package = Package(
    name: "GlassboxBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Glassbox", path: ".."),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "glassbox-bench",
            dependencies: [
                .product(name: "EventLog", package: "Glassbox"),
                .product(name: "Projections", package: "Glassbox"),
                .product(name: "GlassboxTesting", package: "Glassbox"),
                .product(name: "GlassboxProto", package: "Glassbox"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
        ),
        .executableTarget(
            name: "guard-bench",
            dependencies: [
                .product(name: "Tools", package: "Glassbox"),
                .product(name: "Security", package: "Glassbox"),
                .product(name: "EventLog", package: "Glassbox"),
                .product(name: "GlassboxTesting", package: "Glassbox"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
        ),
        .executableTarget(
            name: "agent-bench",
            dependencies: [
                .product(name: "Agents", package: "Glassbox"),
                .product(name: "Tools", package: "Glassbox"),
                .product(name: "Security", package: "Glassbox"),
                .product(name: "EventLog", package: "Glassbox"),
                .product(name: "GlassboxTesting", package: "Glassbox"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
        ),
        .executableTarget(
            name: "append-load",
            dependencies: [.product(name: "EventLog", package: "Glassbox")],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
        ),
    ]
)
