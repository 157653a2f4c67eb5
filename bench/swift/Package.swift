// swift-tools-version:6.2
// Usher's benchmark executables, a package of their own so that `swift build` and `make run` in the project root
// never compile them. The bench scripts build them in release mode:
//   swift build -c release --package-path bench/swift --product LiquidBench
// They use Usher's libraries through the root package (a path dependency) and run beside a reference measured in
// the same run (see bench/*/run.sh and scripts/bench.sh).
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder (a clone may live in any folder), so the root package's
/// identity is read from where this manifest sits rather than written down.
let usher = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()
    .standardizedFileURL.lastPathComponent.lowercased()

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "usher-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
    ],
    targets: [
        /// Liquid rendering throughput (bench/liquid/run.sh, against Ruby Liquid and python-liquid).
        .executableTarget(name: "LiquidBench", dependencies: [.product(name: "UsherLiquid", package: usher)], swiftSettings: strict),
        /// SMTP delivery throughput (bench/mail/run.sh, against postfix's smtp-source).
        .executableTarget(name: "MailBench", dependencies: [.product(name: "UsherMail", package: usher)], swiftSettings: strict),
        /// One post-login Action execution through the worker pool (scripts/bench.sh, bench/login/run.sh).
        .executableTarget(
            name: "ActionsBench", dependencies: [.product(name: "UsherJSON", package: usher), .product(name: "UsherActions", package: usher)],
            swiftSettings: strict),
        /// The bare Hummingbird handler the users read is compared with (bench/http/run.sh).
        .executableTarget(
            name: "BareHummingbirdBench",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
    ]
)
