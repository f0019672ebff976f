package uk.nhs.fhirmesh.client;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static java.nio.charset.StandardCharsets.UTF_8;

/** A FHIR server stand-in on loopback: every request goes to one handler, and is recorded. */
final class FhirTestServer
        implements AutoCloseable
{
    static final String BASE_PATH = "/fhir/rx1";

    @FunctionalInterface
    interface Handler
    {
        /** @param number 1 for the first request the server received, 2 for the second, ... */
        void handle(HttpExchange exchange, int number)
                throws Exception;
    }

    /** What the server received: path and raw query, and the headers the tests look at. */
    record Request(String pathAndQuery, String accept, String userAgent, String authorization, String traceparent) {}

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final AtomicInteger count = new AtomicInteger();
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();

    FhirTestServer(Handler handler)
            throws IOException
    {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            URI uri = exchange.getRequestURI();
            requests.add(new Request(uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()),
                    exchange.getRequestHeaders().getFirst("Accept"),
                    exchange.getRequestHeaders().getFirst("User-Agent"),
                    exchange.getRequestHeaders().getFirst("Authorization"),
                    exchange.getRequestHeaders().getFirst("traceparent")));
            try (exchange) {
                handler.handle(exchange, count.incrementAndGet());
            }
            catch (Exception e) {
                // A handler that breaks off a response on purpose ends up here too.
            }
        });
        server.start();
    }

    URI base()
    {
        return URI.create(origin() + BASE_PATH);
    }

    String origin()
    {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The base URL as seen from inside a handler, for next links. */
    static String base(HttpExchange exchange)
    {
        return "http://127.0.0.1:" + exchange.getLocalAddress().getPort() + BASE_PATH;
    }

    List<Request> requests()
    {
        return List.copyOf(requests);
    }

    static void send(HttpExchange exchange, int status, String body)
            throws IOException
    {
        send(exchange, status, body, Map.of());
    }

    static void send(HttpExchange exchange, int status, String body, Map<String, String> headers)
            throws IOException
    {
        byte[] bytes = body.getBytes(UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/fhir+json;charset=UTF-8");
        headers.forEach(exchange.getResponseHeaders()::set);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }
}
