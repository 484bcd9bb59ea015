/* `edgeai fl simulate ...`: federated learning simulated in one process
 * (eai_fl_simulate), a progress line per round and a summary, JSON on
 * request. `edgeai fl server|client` go to cmd_fl_net.c (MQTT). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static void usage(void)
{
    printf("usage: edgeai fl simulate --model M.onnx --clients N --rounds R [options]\n"
           "       edgeai fl server ...   (MQTT; `edgeai fl server --help`)\n"
           "       edgeai fl client ...   (MQTT; `edgeai fl client --help`)\n\n"
           "simulate options:\n"
           "  --data SPEC            training set (fashion-mnist:train)\n"
           "  --test SPEC            test set (fashion-mnist:test)\n"
           "  --fraction F           clients sampled per round (1)\n"
           "  --partition KIND       iid | shards[:K] | dirichlet[:ALPHA] | one-label (iid)\n"
           "  --strategy S           fedavg | fedprox | fedadam | fedyogi | fedadagrad |\n"
           "                         scaffold | fednova (fedavg)\n"
           "  --epochs E --batch B   local epochs (1) and batch (32)\n"
           "  --optim sgd|adam|adamw client optimizer, reset every round (sgd)\n"
           "  --lr X --momentum M    client learning rate (0.01), SGD momentum (0)\n"
           "  --mu MU                FedProx proximal weight (0.01)\n"
           "  --server-lr X          server step (1; 0.01 for fedadam/yogi/adagrad)\n"
           "  --tiers G[,EVERY]      HierFAVG: G gateways, cloud sync every EVERY rounds (2)\n"
           "  --dropout P            a sampled client fails with probability P (0)\n"
           "  --secure-agg           sum updates through secure aggregation\n"
           "  --dp-epsilon E         DP-FedAvg to (E, --dp-delta D (1e-5)), clip --dp-clip C (1)\n"
           "  --local-baseline       also train every client alone; report their mean accuracy\n"
           "  --checkpoint FILE      save the server after every round; resume from it\n"
           "  --max-samples N        use the first N training and test samples\n"
           "  --threads N --seed S   trainer threads (1), seed (0)\n"
           "  --json FILE            per-round results as JSON ('-': stdout)\n"
           "  --out FINAL.onnx       write the final global model\n");
}

typedef struct progress {
    FILE *out;
    cJSON *rounds;
    int total;
    bool dp;
} progress_t;

static void on_round(const eai_fl_sim_round_t *r, void *user)
{
    progress_t *p = user;
    fprintf(p->out, "round %3u/%d  clients %3d (dropped %d)  train loss %.4f  test acc %6.2f%%",
            r->round + 1, p->total, r->n_participants, r->n_dropped, r->train_loss,
            100 * r->test_acc);
    if (p->dp) fprintf(p->out, "  eps %.3f", r->epsilon);
    fprintf(p->out, "  %.1f s\n", r->seconds);
    fflush(p->out);
    if (p->rounds) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "round", r->round + 1);
        cJSON_AddNumberToObject(o, "participants", r->n_participants);
        cJSON_AddNumberToObject(o, "dropped", r->n_dropped);
        cJSON_AddNumberToObject(o, "train_loss", r->train_loss);
        cJSON_AddNumberToObject(o, "test_loss", r->test_loss);
        cJSON_AddNumberToObject(o, "test_acc", r->test_acc);
        cJSON_AddNumberToObject(o, "epsilon", r->epsilon);
        cJSON_AddNumberToObject(o, "seconds", r->seconds);
        cJSON_AddItemToArray(p->rounds, o);
    }
}

static int write_json(const char *path, cJSON *root)
{
    char *s = cJSON_Print(root);
    if (!s) return cli_fail_usage("fl", "out of memory");
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        free(s);
        return cli_fail_usage("fl", "%s: cannot write", path);
    }
    fprintf(f, "%s\n", s);
    free(s);
    if (f != stdout && fclose(f) != 0) return cli_fail_usage("fl", "%s: write failed", path);
    return 0;
}

static int simulate(int argc, char **argv)
{
    eai_fl_sim_opts_t o = {.rounds = 0};
    const char *json = NULL, *partition = "iid";
    long clients = 0, v;
    double d;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT() (i++, val)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (!strcmp(a, "--model")) {
            if (!(o.model = NEXT())) return cli_fail_usage("fl", "--model needs a file");
        } else if (!strcmp(a, "--data")) {
            if (!(o.train_data = NEXT())) return cli_fail_usage("fl", "--data needs a spec");
        } else if (!strcmp(a, "--test")) {
            if (!(o.test_data = NEXT())) return cli_fail_usage("fl", "--test needs a spec");
        } else if (!strcmp(a, "--clients")) {
            if (!cli_parse_int("fl", a, NEXT(), 1, 1000000, &clients)) return 2;
        } else if (!strcmp(a, "--rounds")) {
            if (!cli_parse_int("fl", a, NEXT(), 1, 1000000, &v)) return 2;
            o.rounds = (int)v;
        } else if (!strcmp(a, "--fraction")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-9, 1, &d)) return 2;
            o.server.fraction = (float)d;
        } else if (!strcmp(a, "--partition")) {
            if (!(partition = NEXT())) return cli_fail_usage("fl", "--partition needs a kind");
        } else if (!strcmp(a, "--strategy")) {
            if (eai_fl_algo_parse(val, &o.server.strategy.algo) != EAI_OK)
                return cli_fail_status("fl");
            i++;
        } else if (!strcmp(a, "--epochs")) {
            if (!cli_parse_int("fl", a, NEXT(), 1, 100000, &v)) return 2;
            o.epochs = (int)v;
        } else if (!strcmp(a, "--batch")) {
            if (!cli_parse_int("fl", a, NEXT(), 1, 1 << 20, &v)) return 2;
            o.batch = (int)v;
        } else if (!strcmp(a, "--lr")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-12, 1e6, &d)) return 2;
            o.optim.lr = (float)d;
        } else if (!strcmp(a, "--optim")) {
            if (!val) return cli_fail_usage("fl", "--optim needs sgd, adam or adamw");
            if (!strcmp(val, "sgd"))
                o.optim.kind = EAI_OPT_SGD;
            else if (!strcmp(val, "adam"))
                o.optim.kind = EAI_OPT_ADAM;
            else if (!strcmp(val, "adamw"))
                o.optim.kind = EAI_OPT_ADAMW;
            else
                return cli_fail_usage("fl", "--optim: '%s' is not sgd, adam or adamw", val);
            i++;
        } else if (!strcmp(a, "--momentum")) {
            if (!cli_parse_real("fl", a, NEXT(), 0, 0.999999, &d)) return 2;
            o.optim.momentum = (float)d;
        } else if (!strcmp(a, "--mu")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-12, 1e6, &d)) return 2;
            o.server.strategy.mu = (float)d;
        } else if (!strcmp(a, "--server-lr")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-12, 1e6, &d)) return 2;
            o.server.strategy.server_lr = (float)d;
        } else if (!strcmp(a, "--tiers")) {
            char *end;
            if (!val) return cli_fail_usage("fl", "--tiers needs G[,EVERY]");
            long g = strtol(val, &end, 10), every = 2;
            if (*end == ',') every = strtol(end + 1, &end, 10);
            if (end == val || *end || g < 1 || g > 1000000 || every < 1 || every > 1000000)
                return cli_fail_usage("fl", "--tiers: '%s' is not G[,EVERY] (positive integers)",
                                      val);
            o.n_tiers = 1;
            o.fanout[0] = (int)g;
            o.every[0] = (int)every;
            i++;
        } else if (!strcmp(a, "--dropout")) {
            if (!cli_parse_real("fl", a, NEXT(), 0, 0.99, &d)) return 2;
            o.dropout = (float)d;
        } else if (!strcmp(a, "--secure-agg")) {
            o.secure_agg = true;
        } else if (!strcmp(a, "--dp-epsilon")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-6, 1e6, &d)) return 2;
            o.dp_epsilon = (float)d;
        } else if (!strcmp(a, "--dp-delta")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-300, 0.5, &d)) return 2;
            o.dp_delta = d;
        } else if (!strcmp(a, "--dp-clip")) {
            if (!cli_parse_real("fl", a, NEXT(), 1e-9, 1e9, &d)) return 2;
            o.dp_clip = (float)d;
        } else if (!strcmp(a, "--local-baseline")) {
            o.local_baseline = true;
        } else if (!strcmp(a, "--checkpoint")) {
            if (!(o.server.checkpoint = NEXT()))
                return cli_fail_usage("fl", "--checkpoint needs a file");
        } else if (!strcmp(a, "--max-samples")) {
            if (!cli_parse_int("fl", a, NEXT(), 1, INT32_MAX, &v)) return 2;
            o.max_train_samples = o.max_test_samples = v;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int("fl", a, NEXT(), 1, 1024, &v)) return 2;
            o.threads = (int)v;
        } else if (!strcmp(a, "--seed")) {
            if (!cli_parse_int("fl", a, NEXT(), 0, INT32_MAX, &v)) return 2;
            o.seed = (uint64_t)v;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            if (!(o.out_model = NEXT())) return cli_fail_usage("fl", "--out needs a file");
        } else if (!strcmp(a, "--json")) {
            if (!(json = NEXT())) return cli_fail_usage("fl", "--json needs a file");
        } else {
            return cli_fail_usage("fl", "unknown option '%s' (see `edgeai fl --help`)", a);
        }
#undef NEXT
    }
    if (!o.model) return cli_fail_usage("fl", "simulate needs --model M.onnx");
    if (!clients || !o.rounds) return cli_fail_usage("fl", "simulate needs --clients and --rounds");
    if (eai_partition_parse(partition, &o.partition) != EAI_OK) return cli_fail_status("fl");
    o.partition.n_clients = (int)clients;
    o.partition.seed = o.seed;
    o.server.seed = o.seed;

    const bool to_stdout = json && strcmp(json, "-") == 0;
    progress_t p = {.out = to_stdout ? stderr : stdout, .total = o.rounds, .dp = o.dp_epsilon > 0};
    cJSON *root = json ? cJSON_CreateObject() : NULL;
    if (root) p.rounds = cJSON_AddArrayToObject(root, "rounds");
    o.on_round = on_round;
    o.user = &p;
    fprintf(p.out, "fl simulate: %s, %ld clients (%s), %s, %d rounds x %d epochs%s%s%s\n", o.model,
            clients, partition, eai_fl_algo_name(o.server.strategy.algo), o.rounds,
            o.epochs ? o.epochs : 1, o.n_tiers ? ", hierarchical" : "",
            o.secure_agg ? ", secure aggregation" : "", o.dp_epsilon > 0 ? ", DP" : "");
    eai_fl_sim_result_t res;
    const double t0 = cli_now();
    if (eai_fl_simulate(&o, &res) != EAI_OK) {
        cJSON_Delete(root);
        return cli_fail_status("fl");
    }
    fprintf(p.out, "final test acc %.2f%% (best %.2f%%) after %d rounds", 100 * res.final_acc,
            100 * res.best_acc, res.rounds);
    if (res.local_mean_acc >= 0)
        fprintf(p.out, "; local-only mean %.2f%%", 100 * res.local_mean_acc);
    if (o.dp_epsilon > 0) fprintf(p.out, "; epsilon %.3f", res.epsilon);
    fprintf(p.out, "\nwall %.1f s, peak RSS %.1f MiB\n", cli_now() - t0,
            (double)res.peak_rss_kb / 1024.0);
    if (o.out_model) fprintf(p.out, "wrote %s\n", o.out_model);
    int rc = 0;
    if (root) {
        cJSON_AddStringToObject(root, "model", o.model);
        cJSON_AddStringToObject(root, "strategy", eai_fl_algo_name(o.server.strategy.algo));
        cJSON_AddStringToObject(root, "partition", partition);
        cJSON_AddNumberToObject(root, "clients", (double)clients);
        cJSON_AddNumberToObject(root, "final_acc", res.final_acc);
        cJSON_AddNumberToObject(root, "best_acc", res.best_acc);
        if (res.local_mean_acc >= 0)
            cJSON_AddNumberToObject(root, "local_mean_acc", res.local_mean_acc);
        cJSON_AddNumberToObject(root, "epsilon", res.epsilon);
        cJSON_AddNumberToObject(root, "seconds", res.seconds);
        cJSON_AddNumberToObject(root, "peak_rss_kb", (double)res.peak_rss_kb);
        rc = write_json(json, root);
        cJSON_Delete(root);
    }
    return rc;
}

int cmd_fl(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "simulate")) return simulate(argc - 1, argv + 1);
    if (!strcmp(argv[1], "server")) return cmd_fl_server(argc - 1, argv + 1);
    if (!strcmp(argv[1], "client")) return cmd_fl_client(argc - 1, argv + 1);
    return cli_fail_usage("fl", "unknown subcommand '%s' (simulate, server or client)", argv[1]);
}
