import Testing
@testable import Connectors

@Suite struct ConnectionDefinitionTests {
    @Test func sqliteURLsGiveTheFilePath() throws {
        #expect(try ConnectionEndpoint(url: "sqlite:///var/data/warehouse.db") == .sqlite(path: "/var/data/warehouse.db"))
        #expect(try ConnectionEndpoint(url: "sqlite:data/warehouse.db") == .sqlite(path: "data/warehouse.db"))
        #expect(try ConnectionEndpoint(url: "sqlite:/abs/my%20file.db") == .sqlite(path: "/abs/my file.db"))
        #expect(try ConnectionDefinition(name: "local", url: "sqlite:///x.db").engine == .sqlite)
        for bad in ["sqlite://host/x.db", "sqlite:", "sqlite:///x.db?mode=rwc", "mysql://u@h/db", "warehouse.db"] {
            #expect(throws: ConnectorError.self, "\(bad)") { try ConnectionDefinition(name: "x", url: bad) }
        }
    }

    @Test func postgresURLsGiveHostPortUserDatabaseAndTLS() throws {
        let endpoint = try #require(try postgres("postgresql://glassbox@127.0.0.1:5433/warehouse?sslmode=require&connect_timeout=3"))
        #expect(endpoint.host == "127.0.0.1")
        #expect(endpoint.port == 5433)
        #expect(endpoint.user == "glassbox")
        #expect(endpoint.database == "warehouse")
        #expect(endpoint.tls == .require)
        #expect(endpoint.connectTimeout == .seconds(3))
        let defaults = try #require(try postgres("postgres://alice@db.internal"))
        #expect(defaults.port == 5432)
        #expect(defaults.database == "alice", "libpq's default: the database named like the user")
        #expect(defaults.tls == .disable)
        let ipv6 = try #require(try postgres("postgresql://u%40corp@[::1]:6000/d%2Fb"))
        #expect(ipv6.host == "::1")
        #expect(ipv6.user == "u@corp")
        #expect(ipv6.database == "d/b")
        #expect(ipv6.address == "[::1]:6000")
        #expect(try ConnectionDefinition(name: "w", url: "postgresql://u@h/db").engine == .postgresql)
    }

    @Test func badPostgresURLsSayWhatToFix() {
        let cases = [
            ("postgresql://127.0.0.1/db", "user is missing"),
            ("postgresql://u@:5432/db", "host is missing"),
            ("postgresql://u@h:99999/db", "port"),
            ("postgresql://u@h/db?sslmode=maybe", "sslmode"),
            ("postgresql://u@h/db?options=-c%20x", "not supported"),
        ]
        for (url, expected) in cases {
            do {
                _ = try ConnectionDefinition(name: "w", url: url)
                Issue.record("\(url) must be refused")
            } catch {
                #expect(error.description.contains(expected), "\(url): \(error)")
            }
        }
    }

    @Test func aPasswordInTheURLIsRefusedAndNeverShown() {
        do {
            _ = try ConnectionDefinition(name: "w", url: "postgresql://glassbox:hunter2@127.0.0.1/db")
            Issue.record("a password in the URL must be refused")
        } catch {
            #expect(error.description.contains("password_env"))
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("glassbox:***@127.0.0.1"))
        }
        let split = ConnectionDefinition.separatingPassword(from: "postgresql://glassbox:p%40ss@127.0.0.1:5432/db?sslmode=disable")
        #expect(split.url == "postgresql://glassbox@127.0.0.1:5432/db?sslmode=disable")
        #expect(split.password == "p@ss")
        #expect(ConnectionDefinition.separatingPassword(from: "sqlite:///x.db").password == nil)
    }

    @Test func descriptionsAndDumpsLeaveThePasswordOut() throws {
        let definition = try ConnectionDefinition(name: "warehouse", url: "postgresql://glassbox@127.0.0.1/db",
                                                  password: "s3cret-value", roles: ["default": "readonly"])
        #expect(!definition.description.contains("s3cret-value"))
        #expect(definition.description.contains("password set"))
        #expect(!String(reflecting: definition).contains("s3cret-value"))
        var dumped = ""
        dump(definition, to: &dumped)
        #expect(!dumped.contains("s3cret-value"))
        #expect(dumped.contains("(set)"))
    }

    @Test func databaseRolesGoByIdThenRoleThenDefault() throws {
        let database = SQLDatabase(try ConnectionDefinition(name: "w", url: "postgresql://u@h/db", roles: [
            "user:alice": "alice_ro", "role:engineer": "engineer_rw", "role:analyst": "analyst_ro", "default": "readonly",
        ]))
        #expect(database.databaseRole(principal: "user:alice", roles: ["engineer"]) == "alice_ro")
        #expect(database.databaseRole(principal: "user:bob", roles: ["engineer", "analyst"]) == "engineer_rw")
        #expect(database.databaseRole(principal: "user:bob", roles: ["analyst", "engineer"]) == "analyst_ro")
        #expect(database.databaseRole(principal: "user:carol", roles: []) == "readonly")
        let none = SQLDatabase(try ConnectionDefinition(name: "w", url: "postgresql://u@h/db"))
        #expect(none.databaseRole(principal: "user:carol", roles: ["analyst"]) == nil)
    }

    @Test func errorDescriptionsSayWhatToDo() {
        let errors: [ConnectorError] = [
            .fileNotFound(connection: "local", path: "/nope.db"),
            .connectFailed(connection: "w", endpoint: "127.0.0.1:1", reason: "connection refused"),
            .roleUnavailable(connection: "w", role: "ghost", reason: "role \"ghost\" does not exist"),
            .timeout(.milliseconds(1_500)),
            .notOneStatement(found: 2),
        ]
        for error in errors { #expect(error.description.count > 40, "\(error)") }
        #expect(ConnectorError.timeout(.milliseconds(1_500)).description.contains("1.5 s"))
        #expect(ConnectorError.timeout(.seconds(30)).description.contains("30 s"))
    }

    private func postgres(_ url: String) throws -> PostgresEndpoint? {
        guard case .postgres(let endpoint) = try ConnectionEndpoint(url: url) else { return nil }
        return endpoint
    }
}

@Suite struct SQLTextTests {
    @Test func statementsAreCountedPastStringsCommentsAndDollarQuotes() {
        #expect(SQLText.statementCount("SELECT 1", engine: .postgresql) == 1)
        #expect(SQLText.statementCount("SELECT 1;", engine: .postgresql) == 1)
        #expect(SQLText.statementCount("SELECT 1; SELECT 2", engine: .postgresql) == 2)
        #expect(SQLText.statementCount("SELECT ';' -- ; \n /* ; /* ; */ ; */", engine: .postgresql) == 1)
        #expect(SQLText.statementCount("SELECT $x$ ; $x$, $1", engine: .postgresql) == 1)
        #expect(SQLText.statementCount(#"SELECT E'\'; DROP TABLE t; --'"#, engine: .postgresql) == 1)
        #expect(SQLText.statementCount("SELECT [a;b], `c;d` FROM t", engine: .sqlite) == 1)
        #expect(SQLText.statementCount(" ; -- nothing", engine: .sqlite) == 0)
    }

    @Test func theSingleStatementLosesTrailingSemicolonsAndComments() throws {
        #expect(try SQLText.singleStatement("  SELECT 1 ; -- done\n", engine: .postgresql) == "SELECT 1")
        #expect(try SQLText.singleStatement("/* why */ SELECT 'a;' ;;", engine: .postgresql) == "SELECT 'a;'")
        #expect(throws: ConnectorError.notOneStatement(found: 2)) { try SQLText.singleStatement("SELECT 1; SELECT 2", engine: .postgresql) }
        #expect(throws: ConnectorError.notOneStatement(found: 0)) { try SQLText.singleStatement("-- nothing", engine: .postgresql) }
    }

    @Test func theLeadingKeywordSkipsCommentsAndParentheses() {
        #expect(SQLText.leadingKeyword("-- x\n((SELECT 1))", engine: .postgresql) == "select")
        #expect(SQLText.leadingKeyword("/* a */ WITH x AS (SELECT 1) SELECT * FROM x", engine: .postgresql) == "with")
        #expect(SQLText.quoteIdentifier(#"we"ird"#) == #""we""ird""#)
        #expect(SQLText.quoteLiteral("it's") == "'it''s'")
    }

    @Test func postgresStatementsThatCannotRunInATransactionAreRecognised() {
        #expect(PostgresWriter.refusedInTransaction("CREATE DATABASE x"))
        #expect(PostgresWriter.refusedInTransaction("vacuum analyze t"))
        #expect(PostgresWriter.refusedInTransaction("CREATE INDEX CONCURRENTLY i ON t (a)"))
        #expect(!PostgresWriter.refusedInTransaction("CREATE TABLE database (x int)"))
        #expect(!PostgresWriter.refusedInTransaction("SELECT 'vacuum'"))
    }
}

@Suite struct SQLiteAuthorizerRulesTests {
    @Test func readingIsAllowedAndEverythingElseDenied() {
        let read = AuthorizerMode.read
        #expect(SQLiteAuthorizer.decide(mode: read, action: 21, first: nil, second: nil) == 0)          // SELECT
        #expect(SQLiteAuthorizer.decide(mode: read, action: 20, first: "t", second: "c") == 0)          // READ
        #expect(SQLiteAuthorizer.decide(mode: read, action: 18, first: "t", second: nil) != 0)          // INSERT
        #expect(SQLiteAuthorizer.decide(mode: read, action: 24, first: "x.db", second: nil) != 0)       // ATTACH
        #expect(SQLiteAuthorizer.decide(mode: read, action: 31, first: nil, second: "load_extension") != 0)
        #expect(SQLiteAuthorizer.decide(mode: read, action: 31, first: nil, second: "lower") == 0)
        #expect(SQLiteAuthorizer.decide(mode: read, action: 19, first: "table_info", second: "t") == 0)
        #expect(SQLiteAuthorizer.decide(mode: read, action: 19, first: "user_version", second: nil) == 0)
        #expect(SQLiteAuthorizer.decide(mode: read, action: 19, first: "user_version", second: "3") != 0)
        #expect(SQLiteAuthorizer.decide(mode: read, action: 19, first: "optimize", second: nil) != 0)
    }

    @Test func writersMayChangeDataButNotEscape() {
        let write = AuthorizerMode.write
        #expect(SQLiteAuthorizer.decide(mode: write, action: 18, first: "t", second: nil) == 0)         // INSERT
        #expect(SQLiteAuthorizer.decide(mode: write, action: 2, first: "t", second: nil) == 0)          // CREATE TABLE
        #expect(SQLiteAuthorizer.decide(mode: write, action: 24, first: "", second: nil) != 0)          // ATTACH (VACUUM)
        #expect(SQLiteAuthorizer.decide(mode: write, action: 25, first: "x", second: nil) != 0)         // DETACH
        #expect(SQLiteAuthorizer.decide(mode: write, action: 22, first: "COMMIT", second: nil) != 0)    // TRANSACTION
        #expect(SQLiteAuthorizer.decide(mode: write, action: 19, first: "foreign_keys", second: "OFF") != 0)
        #expect(SQLiteAuthorizer.decide(mode: write, action: 31, first: nil, second: "LOAD_EXTENSION") != 0)
    }
}
