package beatstream.esshim;

import java.io.IOException;
import java.io.StringReader;
import java.util.*;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.core.*;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.ngram.*;
import org.apache.lucene.analysis.synonym.*;
import org.elasticsearch.Build;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.analysis.*;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.*;
import org.elasticsearch.rest.*;
import org.elasticsearch.client.internal.node.NodeClient;

/** Minimal stand-in for the rest-root and (part of) analysis-common modules missing from the integ-test zip. */
public class ShimPlugin extends Plugin implements AnalysisPlugin, ActionPlugin {
    private volatile ClusterService clusterService;

    @Override
    public Collection<?> createComponents(PluginServices services) {
        this.clusterService = services.clusterService();
        return List.of();
    }

    // ---------- GET / ----------
    @Override
    public Collection<RestHandler> getRestHandlers(RestHandlersServices s, Supplier<DiscoveryNodes> nodes, Predicate<NodeFeature> features) {
        RestHandler main = new RestHandler() {
            @Override public List<Route> routes() { return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/")); }
            @Override public void handleRequest(RestRequest request, RestChannel channel, NodeClient client) {
                if (request.method() == RestRequest.Method.HEAD) {
                    channel.sendResponse(new RestResponse(RestStatus.OK, "application/json; charset=UTF-8", org.elasticsearch.common.bytes.BytesArray.EMPTY));
                    return;
                }
                Build b = Build.current();
                ClusterService cs = clusterService;
                String json = "{\"name\":" + q(cs.localNode().getName())
                    + ",\"cluster_name\":" + q(cs.getClusterName().value())
                    + ",\"cluster_uuid\":" + q(cs.state().metadata().clusterUUID())
                    + ",\"version\":{\"number\":" + q(b.qualifiedVersion())
                    + ",\"build_flavor\":" + q(b.flavor())
                    + ",\"build_type\":" + q(b.type().displayName())
                    + ",\"build_hash\":" + q(b.hash())
                    + ",\"build_date\":" + q(b.date())
                    + ",\"build_snapshot\":" + b.isSnapshot()
                    + ",\"lucene_version\":" + q(org.apache.lucene.util.Version.LATEST.toString())
                    + ",\"minimum_wire_compatibility_version\":" + q(b.minWireCompatVersion())
                    + ",\"minimum_index_compatibility_version\":" + q(b.minIndexCompatVersion())
                    + "},\"tagline\":\"You Know, for Search\"}";
                channel.sendResponse(new RestResponse(RestStatus.OK, "application/json; charset=UTF-8", json));
            }
        };
        return List.of(main);
    }

    private static String q(String s) {
        return s == null ? "null" : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    // ---------- analysis ----------
    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        Map<String, AnalysisProvider<TokenizerFactory>> m = new TreeMap<>();
        m.put("whitespace", (is, env, name, st) -> tokenizer(name, WhitespaceTokenizer::new));
        m.put("keyword", (is, env, name, st) -> tokenizer(name, KeywordTokenizer::new));
        m.put("edge_ngram", (is, env, name, st) -> {
            int min = st.getAsInt("min_gram", 1), max = st.getAsInt("max_gram", 2);
            return tokenizer(name, () -> new EdgeNGramTokenizer(min, max));
        });
        return m;
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> m = new TreeMap<>();
        m.put("asciifolding", (is, env, name, st) -> {
            boolean keep = st.getAsBoolean("preserve_original", false);
            return new FoldingFactory(name, keep);
        });
        AnalysisProvider<TokenFilterFactory> edge = (is, env, name, st) -> {
            int min = st.getAsInt("min_gram", 1), max = st.getAsInt("max_gram", 2);
            boolean keep = st.getAsBoolean("preserve_original", false);
            return filter(name, ts -> new EdgeNGramTokenFilter(ts, min, max, keep));
        };
        m.put("edge_ngram", edge);
        m.put("edgeNGram", edge);
        AnalysisProvider<TokenFilterFactory> syn = AnalysisPlugin.requiresAnalysisSettings((is, env, name, st) -> {
            SynonymMap map = synonyms(st);
            boolean ignoreCase = true;
            return filter(name, ts -> new SynonymGraphFilter(ts, map, ignoreCase));
        });
        m.put("synonym", syn);
        m.put("synonym_graph", syn);
        return m;
    }

    private static SynonymMap synonyms(Settings st) throws IOException {
        List<String> rules = st.getAsList("synonyms", List.of());
        boolean expand = st.getAsBoolean("expand", true);
        Analyzer parseAnalyzer = new Analyzer() {
            @Override protected TokenStreamComponents createComponents(String f) {
                Tokenizer t = new WhitespaceTokenizer();
                return new TokenStreamComponents(t, new ASCIIFoldingFilter(new LowerCaseFilter(t)));
            }
        };
        SolrSynonymParser p = new SolrSynonymParser(true, expand, parseAnalyzer);
        try {
            p.parse(new StringReader(String.join("\n", rules)));
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException("bad synonyms: " + e.getMessage(), e);
        }
        return p.build();
    }

    private static TokenizerFactory tokenizer(String name, Supplier<Tokenizer> s) {
        return new AbstractTokenizerFactory(name) {
            @Override public Tokenizer create() { return s.get(); }
        };
    }

    /** Usable in custom normalizers too. */
    static final class FoldingFactory extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        private final boolean keep;
        FoldingFactory(String name, boolean keep) { super(name); this.keep = keep; }
        @Override public TokenStream create(TokenStream ts) { return new ASCIIFoldingFilter(ts, keep); }
    }

    interface Wrap { TokenStream apply(TokenStream ts); }

    private static TokenFilterFactory filter(String name, Wrap w) {
        return new AbstractTokenFilterFactory(name) {
            @Override public TokenStream create(TokenStream ts) { return w.apply(ts); }
        };
    }
}
