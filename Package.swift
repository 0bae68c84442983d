// swift-tools-version: 6.1
import PackageDescription

let upcomingFeatures: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Glassbox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "glassbox", targets: ["glassbox"]),
        .library(name: "GlassboxProto", targets: ["GlassboxProto"]),
        .library(name: "EventLog", targets: ["EventLog"]),
        .library(name: "Projections", targets: ["Projections"]),
        .library(name: "GlassboxTesting", targets: ["GlassboxTesting"]),
        .library(name: "Telemetry", targets: ["Telemetry"]),
        .library(name: "Security", targets: ["Security"]),
        .library(name: "Connectors", targets: ["Connectors"]),
        .library(name: "Tools", targets: ["Tools"]),
        .library(name: "Agents", targets: ["Agents"]),
        .library(name: "Glassbox", targets: ["Glassbox"]),
        .library(name: "Server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "GlassboxProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"],
            swiftSettings: upcomingFeatures
        ),
        // Wrappers for SQLite's variadic C functions, which Swift cannot call.
        .target(name: "CGlassboxSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "EventLog",
            dependencies: [
                "GlassboxProto",
                "CGlassboxSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "Projections",
            dependencies: ["EventLog", "GlassboxProto"],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "GlassboxTesting",
            dependencies: [
                "EventLog", "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // Events to OTLP spans and log records, and the exporter that delivers them.
        .target(
            name: "Telemetry",
            dependencies: [
                "EventLog", "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // Principals, the policy engine, rate limits and the SQL guardrail: decisions, no I/O.
        .target(
            name: "Security",
            dependencies: [
                "EventLog",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // SQL databases behind one protocol: SQLite (embedded) and PostgreSQL, with catalogs.
        .target(
            name: "Connectors",
            dependencies: [
                "CGlassboxSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // libcurl's variadic setopt wrapped for Swift: SMTP and guarded HTTP fetches.
        .target(name: "CGlassboxCurl", linkerSettings: [.linkedLibrary("curl")]),
        // The Tool protocol, the registry, the guard pipeline every call passes, the built-in tools.
        .target(
            name: "Tools",
            dependencies: [
                "Security", "Connectors", "EventLog", "GlassboxProto", "CGlassboxCurl",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // LLM providers and the agent loop: every thought, model call and tool call an event.
        .target(
            name: "Agents",
            dependencies: [
                "Tools", "Security", "EventLog", "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcomingFeatures
        ),
        // The platform: configuration and the services `glassbox serve` runs beside the API.
        .target(
            name: "Glassbox",
            dependencies: [
                "EventLog", "Projections", "GlassboxProto", "Telemetry", "Security", "Connectors", "Tools", "Agents",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .target(
            name: "Server",
            dependencies: [
                "Glassbox", "Agents", "Tools", "EventLog", "Projections", "GlassboxProto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "glassbox",
            dependencies: [
                "Glassbox",
                "Telemetry",
                "Security",
                "Connectors",
                "Tools",
                "Agents",
                "Server",
                "EventLog",
                "Projections",
                "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "GlassboxTesting", "GlassboxProto"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "ProjectionsTests",
            dependencies: [
                "Projections", "EventLog", "GlassboxTesting", "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "TelemetryTests",
            dependencies: [
                "Telemetry", "EventLog", "GlassboxTesting", "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "SecurityTests",
            dependencies: ["Security", "EventLog", "GlassboxTesting"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "ConnectorsTests",
            dependencies: ["Connectors", "GlassboxTesting"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "ToolsTests",
            dependencies: ["Tools", "Security", "Connectors", "EventLog", "GlassboxTesting", "GlassboxProto"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "AgentsTests",
            dependencies: ["Agents", "Tools", "Security", "Connectors", "EventLog", "GlassboxTesting", "GlassboxProto"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: ["Server", "Glassbox", "EventLog", "Projections", "GlassboxTesting", "Telemetry"],
            swiftSettings: upcomingFeatures
        ),
        .testTarget(
            name: "GlassboxCLITests",
            dependencies: ["EventLog", "GlassboxTesting"],
            swiftSettings: upcomingFeatures
        ),
    ]
)
