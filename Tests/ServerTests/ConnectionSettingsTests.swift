import Connectors
import Foundation
import Glassbox
import Testing

@Suite struct ConnectionSettingsTests {
    private func settings(_ yaml: String, file: String = "/etc/glassbox/glassbox.yaml",
                          environment: [String: String] = [:]) throws -> ConnectionSettings {
        // The section as it stands in glassbox.yaml: one line above the given text.
        let indented = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        var configuration = ServeConfiguration()
        try configuration.apply(yaml: "connections:\n" + indented, file: file, environment: environment)
        return configuration.connections
    }

    private func failure(_ yaml: String, file: String = "/etc/glassbox/glassbox.yaml", environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try settings(yaml, file: file, environment: environment)
            Issue.record("expected a ConfigurationError")
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("expected a ConfigurationError, got \(error)")
        }
        return nil
    }

    @Test func connectionsWithPasswordsAndRoles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("from-file\n".utf8).write(to: folder.appendingPathComponent("secret"))
        let result = try settings("""
            warehouse:
              url: postgresql://glassbox@127.0.0.1:5432/warehouse
              password_env: WAREHOUSE_PASSWORD
              roles: {"user:alice": analyst_ro, "role:engineer": engineer_rw, default: readonly}
            reporting:
              url: postgres://reporter@db.internal/reports?sslmode=require
              password_file: secret
            local:
              url: sqlite:data/warehouse.db
            absolute:
              url: sqlite:///var/data/other.db
            """, file: folder.appendingPathComponent("glassbox.yaml").path, environment: ["WAREHOUSE_PASSWORD": "from-env"])
        #expect(result.connections.map(\.name) == ["warehouse", "reporting", "local", "absolute"])
        let warehouse = try #require(result.connection(named: "warehouse"))
        #expect(warehouse.engine == .postgresql && warehouse.password == "from-env")
        #expect(warehouse.roles == ["user:alice": "analyst_ro", "role:engineer": "engineer_rw", "default": "readonly"])
        #expect(result.connection(named: "reporting")?.password == "from-file", "the trailing line break is trimmed")
        #expect(result.connection(named: "local")?.url == "sqlite://" + folder.appendingPathComponent("data/warehouse.db").standardized.path,
                "relative SQLite paths resolve against the configuration file's folder")
        #expect(result.connection(named: "absolute")?.url == "sqlite:///var/data/other.db")
        #expect(result.databases.count == 4)
        #expect(!result.connections.map(\.description).joined().contains("from-env"))
    }

    @Test func aPasswordInTheURLIsRefusedAndNotRepeated() throws {
        let error = try #require(failure("""
            warehouse:
              url: postgresql://glassbox:hunter2@127.0.0.1/warehouse
            """))
        #expect(error.message.contains("password_env") && error.message.contains("password_file"))
        #expect(!error.description.contains("hunter2"))
        #expect(error.line == 3, "the line of the url (the section starts on line 2)")
    }

    @Test func mistakesNameTheKeyAndWhatToDo() throws {
        let cases: [(String, String)] = [
            ("warehouse: postgresql://u@h/db", "must be a mapping with `url:`"),
            ("warehouse: {password_env: X}", "needs `url:`"),
            ("warehouse: {url: mysql://u@h/db}", "postgresql://"),
            ("warehouse: {url: 'postgresql://u@h/db', passwd: x}", "unknown key `connections.warehouse.passwd`"),
            ("warehouse: {url: 'postgresql://u@h/db', password_env: NOPE}", "NOPE named by password_env is not set"),
            ("warehouse: {url: 'postgresql://u@h/db', password_env: A, password_file: b}", "not both"),
            ("warehouse: {url: 'postgresql://u@h/db', password_file: /nonexistent/secret}", "cannot read the password file /nonexistent/secret"),
            ("warehouse: {url: 'postgresql://u@h/db', roles: [a, b]}", "must map principals"),
            ("local: {url: 'sqlite:x.db', roles: {default: r}}", "SQLite has no database roles"),
            ("'bad name': {url: 'sqlite:x.db'}", "connection names"),
            ("[1, 2]", "must be a mapping of names"),
        ]
        for (yaml, expected) in cases {
            let error = failure(yaml)
            #expect(error?.message.contains(expected) == true, "\(yaml): \(String(describing: error))")
            #expect(error?.file == "/etc/glassbox/glassbox.yaml")
        }
    }
}
