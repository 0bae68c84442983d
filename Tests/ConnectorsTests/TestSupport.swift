import Connectors
import Foundation
import GlassboxTesting
import Testing

/// Runs `body` and returns the ``ConnectorError`` it threw; records an issue when it threw none or another error.
func connectorError(_ body: () async throws -> some Any, sourceLocation: SourceLocation = #_sourceLocation) async -> ConnectorError? {
    do {
        _ = try await body()
        Issue.record("expected a ConnectorError, got success", sourceLocation: sourceLocation)
    } catch let error as ConnectorError {
        return error
    } catch {
        Issue.record("expected a ConnectorError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

extension ConnectorError {
    var isRefusal: Bool {
        if case .refusedByEngine = self { return true }
        return false
    }
}

/// A new SQLite sample warehouse in a temporary folder.
struct SQLiteWarehouse {
    let directory: TemporaryDirectory
    let path: String
    let database: SQLDatabase
    let summary: SampleWarehouse.Summary

    static func make(options: SampleWarehouse.Options = .init(rowsScale: 0.5)) async throws -> SQLiteWarehouse {
        let directory = try TemporaryDirectory(prefix: "glassbox-connectors")
        let path = directory.path("warehouse.db")
        let database = SQLDatabase(try ConnectionDefinition(name: "local", url: "sqlite://" + path))
        let writer = try await database.writer(role: nil)
        let summary = try await SampleWarehouse.create(into: writer, options: options)
        await writer.close()
        return SQLiteWarehouse(directory: directory, path: path, database: database, summary: summary)
    }

    func rows(of table: String) -> Int? {
        summary.tables.first { $0.name == table }?.rows
    }
}

/// The PostgreSQL server of `scripts/postgres`, from GLASSBOX_TEST_POSTGRES_URL and PGPASSWORD.
/// Without the URL the tests are skipped, unless GLASSBOX_REQUIRE_POSTGRES=1 (CI), when they fail.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["GLASSBOX_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = environment["GLASSBOX_REQUIRE_POSTGRES"] == "1"
    /// Whether the PostgreSQL tests run (and fail when there is no server).
    static let enabled = url != nil || required

    /// The server's definition, or nil after recording why there is none.
    static func admin(sourceLocation: SourceLocation = #_sourceLocation) throws -> ConnectionDefinition? {
        guard let url else {
            Issue.record("GLASSBOX_TEST_POSTGRES_URL is not set; run `eval \"$(scripts/postgres)\"` first", sourceLocation: sourceLocation)
            return nil
        }
        return try ConnectionDefinition(name: "test", url: url, password: environment["PGPASSWORD"])
    }

    /// A name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// The URL of another database on the same server.
    static func url(database: String) -> String {
        let base = url ?? ""
        guard let scheme = base.range(of: "://") else { return base }
        let rest = base[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return String(base[..<authorityEnd]) + "/" + database + query
    }

    /// Runs `body` with a database of its own, dropped afterwards.
    static func withDatabase(_ body: (ConnectionDefinition) async throws -> Void) async throws {
        guard let admin = try admin() else { return }
        let name = uniqueName("glassbox_t")
        let writer = try await SQLDatabase(admin).writer(role: nil)
        _ = try await writer.execute("CREATE DATABASE \(name)", limits: QueryLimits())
        let definition = try ConnectionDefinition(name: "warehouse", url: url(database: name), password: admin.password)
        do {
            try await body(definition)
        } catch {
            _ = try? await writer.execute("DROP DATABASE \(name) WITH (FORCE)", limits: QueryLimits())
            await writer.close()
            throw error
        }
        _ = try await writer.execute("DROP DATABASE \(name) WITH (FORCE)", limits: QueryLimits())
        await writer.close()
    }

    /// Runs `body` with a schema of its own in the test database, dropped afterwards.
    static func withSchema(_ body: (ConnectionDefinition, String, any SQLWriter) async throws -> Void) async throws {
        guard let admin = try admin() else { return }
        let schema = uniqueName("t")
        let writer = try await SQLDatabase(admin).writer(role: nil)
        _ = try await writer.execute("CREATE SCHEMA \(schema)", limits: QueryLimits())
        do {
            try await body(admin, schema, writer)
        } catch {
            _ = try? await writer.execute("DROP SCHEMA \(schema) CASCADE", limits: QueryLimits())
            await writer.close()
            throw error
        }
        _ = try await writer.execute("DROP SCHEMA \(schema) CASCADE", limits: QueryLimits())
        await writer.close()
    }
}
