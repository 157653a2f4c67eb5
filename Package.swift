// swift-tools-version:6.2
// Usher: a self-hosted, Auth0-compatible identity server.
// Targets are laid out by domain; dependencies point one way (see ARCHITECTURE.md and README.md):
//   usher (CLI) → UsherApp → UsherHTTP / UsherStorage / UsherMail / UsherActions → UsherCore → UsherLiquid → UsherJSON
//   (UsherActions and UsherLiquid depend on UsherJSON only: the one JSON value, reader and writer)
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "usher",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "usher", targets: ["usher"]),
        // The leaf libraries, for the benchmark package in bench/swift (a path dependency on this one).
        .library(name: "UsherJSON", targets: ["UsherJSON"]),
        .library(name: "UsherLiquid", targets: ["UsherLiquid"]),
        .library(name: "UsherMail", targets: ["UsherMail"]),
        .library(name: "UsherActions", targets: ["UsherActions"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", exact: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", exact: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", exact: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", exact: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", exact: "2.17.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
    ],
    targets: [
        // MARK: libraries with no Usher dependency
        .target(name: "UsherJSON", swiftSettings: strict),
        .target(name: "UsherLiquid", dependencies: ["UsherJSON"], swiftSettings: strict),
        .target(
            name: "UsherMail",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .systemLibrary(
            name: "CJavaScriptCore",
            pkgConfig: "javascriptcoregtk-4.1",
            providers: [.apt(["libjavascriptcoregtk-4.1-dev"])]
        ),
        .target(
            name: "UsherActions",
            dependencies: [
                "CJavaScriptCore", "UsherJSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: domain
        .target(
            name: "UsherCore",
            dependencies: [
                "UsherJSON", "UsherLiquid",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: adapters
        .target(
            name: "UsherStorage",
            dependencies: [
                "UsherJSON", "UsherCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "UsherHTTP",
            dependencies: [
                "UsherJSON", "UsherLiquid", "UsherCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // MARK: composition root and executable
        .target(
            name: "UsherApp",
            dependencies: [
                "UsherJSON", "UsherCore", "UsherStorage", "UsherHTTP", "UsherMail", "UsherActions",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "usher",
            dependencies: [
                "UsherApp", "UsherJSON", "UsherActions", "UsherLiquid",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // MARK: test support (never linked into the binary)
        .target(name: "UsherTesting", dependencies: ["UsherJSON", "UsherCore"], swiftSettings: strict),

        // MARK: tests
        .testTarget(name: "UsherJSONTests", dependencies: ["UsherJSON"], swiftSettings: strict),
        .testTarget(name: "UsherLiquidTests", dependencies: ["UsherJSON", "UsherLiquid"], exclude: ["known-failures.txt"], swiftSettings: strict),
        .testTarget(name: "UsherCoreTests", dependencies: ["UsherJSON", "UsherCore", "UsherTesting"], swiftSettings: strict),
        .testTarget(
            name: "UsherStorageTests",
            dependencies: ["UsherJSON", "UsherStorage", "UsherTesting", .product(name: "SQLKit", package: "sql-kit")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "UsherMailTests",
            dependencies: [
                "UsherMail",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "UsherActionsTests", dependencies: ["UsherJSON", "UsherActions"], swiftSettings: strict),
        .testTarget(
            name: "UsherAppTests",
            dependencies: [
                "UsherApp", "UsherTesting", "UsherJSON", "UsherStorage", "UsherHTTP", "UsherCore", "UsherActions",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
