// Runs mongo-java-server, a MongoDB-wire server, for `beatstream stack up`.
// Usage: java -cp 'lib/*:classes' MongoWireLauncher HOST PORT h2 FILE | memory
//
// mongo-java-server's newest built-in ServerVersion (MONGO_5_0) announces wire version 8,
// which current PyMongo refuses (it needs 9, MongoDB 4.4). The backend uses the version
// only in its hello/buildInfo/serverStatus replies, so we announce 5.0.0 / wire 13;
// `docs/mongodb-stand-in.md` lists what the server really implements.
import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.concurrent.CountDownLatch;

public final class MongoWireLauncher {
    private static final List<Integer> VERSION = List.of(5, 0, 0);
    private static final int WIRE_VERSION = 13;

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            throw new IllegalArgumentException("usage: MongoWireLauncher HOST PORT h2 FILE | memory");
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        MongoBackend backend = switch (args[2]) {
            case "h2" -> new H2Backend(args[3]);
            case "memory" -> new MemoryBackend();
            default -> throw new IllegalArgumentException("backend must be h2 or memory: " + args[2]);
        };
        backend.version(new MongoVersion() {
            @Override public List<Integer> getVersionArray() { return VERSION; }
            @Override public int getWireVersion() { return WIRE_VERSION; }
        });
        // No `enableOplog()`: mongo-java-server keeps its oplog in memory without a bound
        // (1.09M entries had filled a 4 GB heap after an hour of parallel test runs), and
        // it serves no change stream this platform could use (the capability probe finds
        // none either way), so the sync polls.
        MongoServer server = new MongoServer(backend);
        server.bind(host, port);
        System.out.println("mongo-java-server (" + args[2] + ") listening on " + host + ":" + port);
        CountDownLatch stopped = new CountDownLatch(1);
        // SIGTERM: shutting the server down closes the backend, which commits the H2 file.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            stopped.countDown();
        }));
        stopped.await();
    }
}
