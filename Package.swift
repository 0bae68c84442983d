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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
            dependencies: ["EventLog", "GlassboxProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: upcomingFeatures
        ),
        .executableTarget(
            name: "glassbox",
            dependencies: [
                "EventLog",
                "Projections",
                "GlassboxProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
            name: "GlassboxCLITests",
            dependencies: ["EventLog", "GlassboxTesting"],
            swiftSettings: upcomingFeatures
        ),
    ]
)
