/* Tests for orchestrate/smp: strategic merge patch as the apiserver applies it (every directive,
 * merge keys of the built-in types, ordering rules, errors) and the three-way patch of kubectl's
 * client-side apply, driven through whole apply / re-apply / revert cycles of a Deployment.
 *
 * JSON in this file is written with single quotes, turned into double quotes by J(). */
#include <stdlib.h>
#include <string.h>

#include "orchestrate/smp.h"
#include "tests/unit/test.h"

/* The case tables leave the error text out of the cases that succeed. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* A copy of s with ' replaced by ". Freed at exit of the forked test; the leak checker is told
 * nothing leaks by keeping every copy reachable. */
static char *J(const char *s)
{
    static char *keep[512];
    static size_t n;
    char *c = strdup(s);
    for (char *p = c; *p; p++)
        if (*p == '\'')
            *p = '"';
    if (n < REEF_ARRAY_LEN(keep))
        keep[n++] = c;
    return c;
}

static bool json_same(const char *a, const char *b)
{
    struct reef_json_doc da = REEF_JSON_DOC_INIT, db = REEF_JSON_DOC_INIT;
    bool ok = reef_json_parse(&da, a, strlen(a), NULL, NULL) == 0 &&
              reef_json_parse(&db, b, strlen(b), NULL, NULL) == 0 &&
              reef_json_equal(&da, REEF_JSON_ROOT, &db, REEF_JSON_ROOT);
    reef_json_doc_free(&da);
    reef_json_doc_free(&db);
    return ok;
}

struct case_ {
    const char *name, *kind, *doc, *patch, *want; /* want NULL: error containing err */
    const char *err;
};

static void run_cases(const struct case_ *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *doc = J(c[i].doc), *patch = J(c[i].patch);
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_err err = {0};
        int r = reef_smp_apply(c[i].kind, doc, strlen(doc), patch, strlen(patch), &out, &err);
        if (c[i].want) {
            const char *want = J(c[i].want);
            if (r != 0)
                TEST_FAIL("%s: error %d: %s", c[i].name, r, err.msg);
            if (strcmp(out.data, want) != 0)
                TEST_FAIL("%s:\n  got  %s\n  want %s", c[i].name, out.data, want);
        } else {
            if (r == 0)
                TEST_FAIL("%s: expected an error, got %s", c[i].name, out.data);
            CHECK(out.len == 0);
            if (!strstr(err.msg, c[i].err))
                TEST_FAIL("%s: error \"%s\" lacks \"%s\"", c[i].name, err.msg, c[i].err);
        }
        reef_buf_free(&out);
    }
}

static void test_maps_and_scalars(void)
{
    static const struct case_ c[] = {
        {"null deletes, new keys appended", "Pod",
         "{'metadata':{'name':'p','labels':{'a':'1','b':'2'}}}",
         "{'metadata':{'labels':{'b':null,'c':'3'}}}",
         "{'metadata':{'name':'p','labels':{'a':'1','c':'3'}}}"},
        {"member order kept", "ConfigMap", "{'b':1,'a':2}", "{'c':3,'a':4}", "{'b':1,'a':4,'c':3}"},
        {"null for a missing key is dropped", "ConfigMap", "{'a':1}", "{'x':null}", "{'a':1}"},
        {"nested nulls in a new map are dropped", "ConfigMap", "{'a':1}",
         "{'data':{'k':'v','gone':null,'m':{'n':null}}}", "{'a':1,'data':{'k':'v','m':{}}}"},
        {"type change replaces", "ConfigMap", "{'data':'s'}", "{'data':{'k':'v'}}",
         "{'data':{'k':'v'}}"},
        {"map to scalar", "ConfigMap", "{'data':{'k':'v'}}", "{'data':3}", "{'data':3}"},
        {"configmap data merge", "ConfigMap", "{'data':{'a':'1','b':'2'}}",
         "{'data':{'b':'3','c':'4'}}", "{'data':{'a':'1','b':'3','c':'4'}}"},
        {"rollout restart", "Deployment",
         "{'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'w'}}}}}",
         "{'spec':{'template':{'metadata':{'annotations':{'kubectl.kubernetes.io/restartedAt':"
         "'2026-11-28T12:48:29Z'}}}}}",
         "{'spec':{'replicas':1,'template':{'metadata':{'labels':{'app':'w'},'annotations':{"
         "'kubectl.kubernetes.io/restartedAt':'2026-11-28T12:48:29Z'}}}}}"},
        {"empty patch", "Pod", "{'a':[1,2]}", "{}", "{'a':[1,2]}"},
        {"strings and numbers keep their spelling", "Pod", "{'n':1.50,'s':'\\u00e9'}", "{'m':1e3}",
         "{'n':1.50,'s':'\xc3\xa9','m':1e3}"},
    };
    run_cases(c, REEF_ARRAY_LEN(c));
}

#define POD(containers) "{'spec':{'containers':" containers "}}"

static void test_merge_lists(void)
{
    static const struct case_ c[] = {
        {"containers merge by name", "Pod",
         POD("[{'name':'a','image':'x'},{'name':'b','image':'y'}]"),
         POD("[{'name':'b','image':'z'}]"),
         POD("[{'name':'a','image':'x'},{'name':'b','image':'z'}]")},
        /* Without order information the patch's new items come before the server's. */
        {"new container without order", "Pod", POD("[{'name':'a'},{'name':'b'}]"),
         POD("[{'name':'c','image':'w'}]"),
         POD("[{'name':'c','image':'w'},{'name':'a'},{'name':'b'}]")},
        {"new container with $setElementOrder", "Pod", POD("[{'name':'a'},{'name':'b'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'b'},{'name':'c'}],"
         "'containers':[{'name':'c','image':'w'}]}}",
         POD("[{'name':'a'},{'name':'b'},{'name':'c','image':'w'}]")},
        {"$setElementOrder alone reorders", "Pod", POD("[{'name':'a'},{'name':'b'},{'name':'c'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'c'},{'name':'a'},{'name':'b'}]}}",
         POD("[{'name':'c'},{'name':'a'},{'name':'b'}]")},
        {"$setElementOrder with an item in the middle", "Pod", POD("[{'name':'a'},{'name':'b'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'n'},{'name':'b'}],"
         "'containers':[{'name':'n','image':'i'}]}}",
         POD("[{'name':'a'},{'name':'n','image':'i'},{'name':'b'}]")},
        {"server-only items keep their place", "Pod",
         POD("[{'name':'a'},{'name':'s'},{'name':'b'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'b'},{'name':'a'}],"
         "'containers':[{'name':'a','image':'new'}]}}",
         POD("[{'name':'s'},{'name':'b'},{'name':'a','image':'new'}]")},
        {"$patch: delete", "Pod", POD("[{'name':'a'},{'name':'b'}]"),
         POD("[{'name':'b','$patch':'delete'}]"), POD("[{'name':'a'}]")},
        {"$patch: delete removes one duplicate", "Pod",
         POD("[{'name':'a'},{'name':'a','image':'2'},{'name':'b'}]"),
         POD("[{'name':'a','$patch':'delete'}]"), POD("[{'name':'a','image':'2'},{'name':'b'}]")},
        {"two deletes remove both duplicates", "Pod",
         POD("[{'name':'a'},{'name':'a'},{'name':'b'}]"),
         POD("[{'name':'a','$patch':'delete'},{'name':'a','$patch':'delete'}]"),
         POD("[{'name':'b'}]")},
        {"$setElementOrder naming an item that is not there", "Pod",
         POD("[{'name':'a'},{'name':'c'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'c'},{'name':'b'},{'name':'a'}],"
         "'containers':[{'name':'c','image':'3'},{'name':'a','image':'1'}]}}",
         POD("[{'name':'c','image':'3'},{'name':'a','image':'1'}]")},
        {"patch order wins over the live order", "Pod",
         POD("[{'name':'1'},{'name':'2','image':'b'},{'name':'3'}]"),
         POD("[{'name':'3','image':'c'},{'name':'1','image':'a'}]"),
         POD("[{'name':'2','image':'b'},{'name':'3','image':'c'},{'name':'1','image':'a'}]")},
        {"$patch: delete of a missing item", "Pod", POD("[{'name':'a'}]"),
         POD("[{'name':'q','$patch':'delete'}]"), POD("[{'name':'a'}]")},
        {"$patch: replace in a list", "Pod", POD("[{'name':'a'},{'name':'b'}]"),
         POD("[{'name':'z','image':'i'},{'$patch':'replace'}]"), POD("[{'name':'z','image':'i'}]")},
        {"$patch: replace in a map", "Pod",
         "{'spec':{'containers':[{'name':'a'}],'restartPolicy':'Always'}}",
         "{'spec':{'$patch':'replace','containers':[{'name':'q'}]}}",
         "{'spec':{'containers':[{'name':'q'}]}}"},
        {"$patch: delete in a map", "Pod", "{'metadata':{'labels':{'a':'b'},'name':'p'}}",
         "{'metadata':{'labels':{'$patch':'delete'}}}", "{'metadata':{'labels':{},'name':'p'}}"},
        {"nested: ports of a container", "Pod",
         POD("[{'name':'a','ports':[{'containerPort':80,'name':'http'},{'containerPort':443}]}]"),
         POD("[{'name':'a','ports':[{'containerPort':443,'$patch':'delete'},"
             "{'containerPort':8080}]}]"),
         POD("[{'name':'a','ports':[{'containerPort':8080},{'containerPort':80,"
             "'name':'http'}]}]")},
        {"env merge by name", "Pod",
         POD("[{'name':'a','env':[{'name':'A','value':'1'},{'name':'B','value':'2'}]}]"),
         POD("[{'name':'a','env':[{'name':'B','value':'3'}]}]"),
         POD("[{'name':'a','env':[{'name':'A','value':'1'},{'name':'B','value':'3'}]}]")},
        {"env valueFrom replaces value by null", "Pod",
         POD("[{'name':'a','env':[{'name':'A','value':'1'}]}]"),
         POD("[{'name':'a','env':[{'name':'A','value':null,'valueFrom':{'fieldRef':{"
             "'fieldPath':'spec.nodeName'}}}]}]"),
         POD("[{'name':'a','env':[{'name':'A','valueFrom':{'fieldRef':{'fieldPath':"
             "'spec.nodeName'}}}]}]")},
        {"volumeMounts by mountPath", "Pod",
         POD("[{'name':'a','volumeMounts':[{'mountPath':'/x','name':'v'}]}]"),
         POD("[{'name':'a','volumeMounts':[{'mountPath':'/x','readOnly':true}]}]"),
         POD("[{'name':'a','volumeMounts':[{'mountPath':'/x','name':'v','readOnly':true}]}]")},
        {"initContainers and ephemeralContainers", "Pod",
         "{'spec':{'initContainers':[{'name':'i','image':'a'}],'ephemeralContainers':[{'name':"
         "'e'}]}}",
         "{'spec':{'initContainers':[{'name':'i','image':'b'}],'ephemeralContainers':[{'name':"
         "'e','image':'c'}]}}",
         "{'spec':{'initContainers':[{'name':'i','image':'b'}],'ephemeralContainers':[{'name':"
         "'e','image':'c'}]}}"},
        {"set image", "Deployment",
         "{'spec':{'template':{'spec':{'containers':[{'name':'nginx','image':'nginx:1.28',"
         "'ports':[{'containerPort':80}]}]}}}}",
         "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'nginx'}],"
         "'containers':[{'image':'nginx:1.29','name':'nginx'}]}}}}",
         "{'spec':{'template':{'spec':{'containers':[{'name':'nginx','image':'nginx:1.29',"
         "'ports':[{'containerPort':80}]}]}}}}"},
        {"service ports by port", "Service",
         "{'spec':{'ports':[{'port':80,'targetPort':8080},{'port':443}]}}",
         "{'spec':{'ports':[{'port':80,'targetPort':9090}]}}",
         "{'spec':{'ports':[{'port':80,'targetPort':9090},{'port':443}]}}"},
        {"service ports kubectl apply", "Service",
         "{'spec':{'ports':[{'port':80,'targetPort':8080,'protocol':'TCP'}],'clusterIP':'10.43.0.9'"
         "}}",
         "{'spec':{'$setElementOrder/ports':[{'port':443},{'port':80}],'ports':[{'name':'https',"
         "'port':443,'targetPort':443},{'port':80,'targetPort':8080}]}}",
         "{'spec':{'ports':[{'name':'https','port':443,'targetPort':443},{'port':80,"
         "'targetPort':8080,'protocol':'TCP'}],'clusterIP':'10.43.0.9'}}"},
        {"imagePullSecrets, hostAliases, topologySpreadConstraints", "Pod",
         "{'spec':{'imagePullSecrets':[{'name':'a'}],'hostAliases':[{'ip':'1.1.1.1','hostnames':"
         "['x']}],'topologySpreadConstraints':[{'topologyKey':'zone','maxSkew':1}]}}",
         "{'spec':{'imagePullSecrets':[{'name':'b'}],'hostAliases':[{'ip':'1.1.1.1','hostnames':"
         "['y']}],'topologySpreadConstraints':[{'topologyKey':'zone','maxSkew':2}]}}",
         "{'spec':{'imagePullSecrets':[{'name':'b'},{'name':'a'}],'hostAliases':[{'ip':"
         "'1.1.1.1','hostnames':['y']}],'topologySpreadConstraints':[{'topologyKey':'zone',"
         "'maxSkew':2}]}}"},
        {"tolerations and args are replaced", "Pod",
         "{'spec':{'tolerations':[{'key':'a'},{'key':'b'}],'containers':[{'name':'c','args':"
         "['1','2']}]}}",
         "{'spec':{'tolerations':[{'key':'c'}],'containers':[{'name':'c','args':['3']}]}}",
         "{'spec':{'tolerations':[{'key':'c'}],'containers':[{'name':'c','args':['3']}]}}"},
        {"ownerReferences by uid", "ReplicaSet",
         "{'metadata':{'ownerReferences':[{'uid':'u1','name':'a'},{'uid':'u2','name':'b'}]}}",
         "{'metadata':{'ownerReferences':[{'uid':'u2','controller':true}]}}",
         "{'metadata':{'ownerReferences':[{'uid':'u1','name':'a'},{'uid':'u2','name':'b',"
         "'controller':true}]}}"},
        {"status conditions by type", "Pod",
         "{'status':{'conditions':[{'type':'Ready','status':'False'},{'type':'Scheduled',"
         "'status':'True'}],'podIPs':[{'ip':'10.0.0.1'}]}}",
         "{'status':{'conditions':[{'type':'Ready','status':'True'}],'podIPs':[{'ip':"
         "'10.0.0.1'}]}}",
         "{'status':{'conditions':[{'type':'Ready','status':'True'},{'type':'Scheduled',"
         "'status':'True'}],'podIPs':[{'ip':'10.0.0.1'}]}}"},
        {"node addresses by type, podCIDRs union", "Node",
         "{'spec':{'podCIDRs':['10.42.0.0/24']},'status':{'addresses':[{'type':'InternalIP',"
         "'address':'1.2.3.4'},{'type':'Hostname','address':'n'}]}}",
         "{'spec':{'podCIDRs':['fd00::/64']},'status':{'addresses':[{'type':'InternalIP',"
         "'address':'5.6.7.8'}]}}",
         "{'spec':{'podCIDRs':['fd00::/64','10.42.0.0/24']},'status':{'addresses':[{'type':"
         "'InternalIP','address':'5.6.7.8'},{'type':'Hostname','address':'n'}]}}"},
        {"conditions on a deployment, namespace", "Namespace",
         "{'status':{'conditions':[{'type':'A','status':'x'}]}}",
         "{'status':{'conditions':[{'type':'B','status':'y'}]}}",
         "{'status':{'conditions':[{'type':'B','status':'y'},{'type':'A','status':'x'}]}}"},
        {"directives inside a new container are cleaned", "Pod", POD("[{'name':'a'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'a'},{'name':'n'}],'containers':[{"
         "'name':'n','$setElementOrder/env':[{'name':'X'}],'env':[{'name':'X','value':null},"
         "{'name':'Y','$patch':'delete'}]}]}}",
         POD("[{'name':'a'},{'name':'n','env':[{'name':'X'}]}]")},
        {"a new list field", "Pod", "{'spec':{}}", POD("[{'name':'a'}]"), POD("[{'name':'a'}]")},
        {"merge into an empty list", "Pod", POD("[]"), POD("[{'name':'a'}]"),
         POD("[{'name':'a'}]")},
        {"empty patch list", "Pod", POD("[{'name':'a'}]"), POD("[]"), POD("[{'name':'a'}]")},
        {"unknown fields: maps merge, lists replace", "Pod",
         "{'spec':{'x':{'a':1},'y':[{'name':'a'}]}}", "{'spec':{'x':{'b':2},'y':[{'name':'b'}]}}",
         "{'spec':{'x':{'a':1,'b':2},'y':[{'name':'b'}]}}"},
    };
    run_cases(c, REEF_ARRAY_LEN(c));
}

static void test_primitive_lists(void)
{
    static const struct case_ c[] = {
        {"finalizers union", "Pod", "{'metadata':{'finalizers':['a','b']}}",
         "{'metadata':{'finalizers':['c','a']}}", "{'metadata':{'finalizers':['c','a','b']}}"},
        {"finalizers duplicates", "Pod", "{'metadata':{'finalizers':['a','a']}}",
         "{'metadata':{'finalizers':['a']}}", "{'metadata':{'finalizers':['a']}}"},
        {"scalar order from the patch", "Pod", "{'metadata':{'finalizers':['1','2','3']}}",
         "{'metadata':{'finalizers':['3','1']}}", "{'metadata':{'finalizers':['2','3','1']}}"},
        {"$setElementOrder of scalars naming one that is not there", "Pod",
         "{'metadata':{'finalizers':['a','c']}}",
         "{'metadata':{'$setElementOrder/finalizers':['c','b','a']}}",
         "{'metadata':{'finalizers':['c','a']}}"},
        {"$deleteFromPrimitiveList", "Pod", "{'metadata':{'finalizers':['a','b','c']}}",
         "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b','x']}}",
         "{'metadata':{'finalizers':['a','c']}}"},
        {"$deleteFromPrimitiveList without a list", "Pod", "{'metadata':{}}",
         "{'metadata':{'$deleteFromPrimitiveList/finalizers':['b']}}", "{'metadata':{}}"},
        {"$setElementOrder of scalars", "Pod", "{'metadata':{'finalizers':['a','b','c']}}",
         "{'metadata':{'$setElementOrder/finalizers':['c','b','a']}}",
         "{'metadata':{'finalizers':['c','b','a']}}"},
        {"$setElementOrder with additions and deletions", "Pod",
         "{'metadata':{'finalizers':['a','b','c']}}",
         "{'metadata':{'$setElementOrder/finalizers':['a','d','c'],'finalizers':['d'],"
         "'$deleteFromPrimitiveList/finalizers':['b']}}",
         "{'metadata':{'finalizers':['a','d','c']}}"},
    };
    run_cases(c, REEF_ARRAY_LEN(c));
}

static void test_retain_keys(void)
{
    static const struct case_ c[] = {
        {"$retainKeys clears the other union members", "Deployment",
         "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}}}}",
         "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
         "{'spec':{'strategy':{'type':'Recreate'}}}"},
        {"$retainKeys keeps listed keys", "Deployment",
         "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1},'x':1}}}",
         "{'spec':{'strategy':{'$retainKeys':['type','rollingUpdate'],'rollingUpdate':{"
         "'maxUnavailable':0}}}}",
         "{'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1,"
         "'maxUnavailable':0}}}}"},
        {"$retainKeys in a volume", "Pod", "{'spec':{'volumes':[{'name':'v','emptyDir':{}}]}}",
         "{'spec':{'volumes':[{'name':'v','$retainKeys':['configMap','name'],'configMap':{"
         "'name':'cm'}}]}}",
         "{'spec':{'volumes':[{'name':'v','configMap':{'name':'cm'}}]}}"},
        {"$retainKeys in a new strategy is dropped", "Deployment", "{'spec':{}}",
         "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}",
         "{'spec':{'strategy':{'type':'Recreate'}}}"},
        {"$retainKeys not listing a patched key", "Deployment",
         "{'spec':{'strategy':{'type':'A'}}}",
         "{'spec':{'strategy':{'$retainKeys':['type'],'rollingUpdate':{}}}}", NULL,
         "invalid patch format of retainKeys"},
        {"$retainKeys not a list", "Deployment", "{'spec':{'strategy':{'type':'A'}}}",
         "{'spec':{'strategy':{'$retainKeys':'type'}}}", NULL,
         "invalid patch format of retainKeys"},
    };
    run_cases(c, REEF_ARRAY_LEN(c));
}

static void test_errors(void)
{
    static const struct case_ c[] = {
        {"missing merge key", "Pod", POD("[{'name':'a'}]"), POD("[{'image':'x'}]"), NULL,
         "does not contain declared merge key: name"},
        {"delete without merge key", "Pod", POD("[{'name':'a'}]"), POD("[{'$patch':'delete'}]"),
         NULL, "does not contain declared merge key: name"},
        {"unknown $patch in a map", "Pod", "{'spec':{}}", "{'spec':{'$patch':'frob'}}", NULL,
         "unknown patch type: frob"},
        {"unknown $patch in a list", "Pod", POD("[{'name':'a'}]"),
         POD("[{'name':'a','$patch':'frob'}]"), NULL, "unknown patch type: frob"},
        {"$patch: merge in a list", "Pod", POD("[{'name':'a'}]"),
         POD("[{'name':'a','$patch':'merge'}]"), NULL,
         "merging lists cannot yet be specified in the patch"},
        {"mixed element kinds", "Pod", POD("[{'name':'a'}]"), POD("['x']"), NULL,
         "list element types are not identical"},
        {"lists of lists", "Pod", "{'metadata':{'finalizers':[['a']]}}",
         "{'metadata':{'finalizers':[['b']]}}", NULL, "lists of lists are not supported"},
        {"patch not an object", "Pod", "{}", "[]", NULL, "invalid JSON document"},
        {"document not an object", "Pod", "[]", "{}", NULL, "invalid JSON document"},
        {"patch not JSON", "Pod", "{}", "{'a'", NULL, "strategic merge patch: json:"},
        {"$setElementOrder not a list", "Pod", POD("[{'name':'a'}]"),
         "{'spec':{'$setElementOrder/containers':{}}}", NULL,
         "invalid patch format of setElementOrder list"},
        {"$setElementOrder missing merge key", "Pod", POD("[{'name':'a'}]"),
         "{'spec':{'$setElementOrder/containers':[{'image':'a'}]}}", NULL,
         "does not contain declared merge key: name"},
        {"$setElementOrder contradicting the patch", "Pod", POD("[{'name':'a'},{'name':'b'}]"),
         "{'spec':{'$setElementOrder/containers':[{'name':'a'}],'containers':[{'name':'b'}]}}",
         NULL, "doesn't match the $setElementOrder list"},
        {"bad parallel list key", "Pod", "{'metadata':{'finalizers':['a']}}",
         "{'metadata':{'$deleteFromPrimitiveListfinalizers':['a']}}", NULL,
         "invalid patch format of primitive list"},
        {"live list element not a map", "Pod", POD("['a']"), POD("[{'name':'a'}]"), NULL,
         "list element types are not identical"},
    };
    run_cases(c, REEF_ARRAY_LEN(c));
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef_smp_apply("Widget", "{}", 2, "{}", 2, &out, &err), ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "not supported") != NULL);
    CHECK(!reef_smp_supports("Widget"));
    CHECK(reef_smp_supports("Deployment"));
    CHECK(reef_smp_supports("EndpointSlice"));
    CHECK_INT(reef_smp_apply(NULL, "{}", 2, "{}", 2, &out, NULL), ==, -EOPNOTSUPP);
    /* 400 versus 422 */
    CHECK_INT(reef_smp_apply("Pod", "{}", 2, "[]", 2, &out, &err), ==, -EBADMSG);
    CHECK_INT(reef_smp_apply("Pod", "{}", 2, "{", 1, &out, &err), ==, -EBADMSG);
    const char *rk = J("{'spec':{'strategy':{'$retainKeys':'x'}}}");
    const char *dd = J("{'spec':{'strategy':{}}}");
    CHECK_INT(reef_smp_apply("Deployment", dd, strlen(dd), rk, strlen(rk), &out, &err), ==,
              -EBADMSG);
    const char *nk = J(POD("[{'image':'x'}]"));
    const char *pd = J(POD("[{'name':'a'}]"));
    CHECK_INT(reef_smp_apply("Pod", pd, strlen(pd), nk, strlen(nk), &out, &err), ==, -EINVAL);
    CHECK_INT(reef_smp_apply("Pod", "[]", 2, "{}", 2, &out, &err), ==, -EINVAL);
    reef_buf_free(&out);
}

/* The live object kubectl sees for the example in kube-api.md section 5.1, patched with the
 * exact body kubectl sent there. */
static void test_kubectl_apply_patch_body(void)
{
    const char *live =
        J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{'app':"
          "'web','tier':'fe'},'uid':'u'},'spec':{'replicas':2,'template':{'spec':{'containers':[{"
          "'name':'nginx','image':'nginx:1.27','env':[{'name':'A','value':'1'},{'name':'B',"
          "'value':'2'}],'ports':[{'containerPort':80,'protocol':'TCP'},{'containerPort':443,"
          "'protocol':'TCP'}],'imagePullPolicy':'IfNotPresent'}],'restartPolicy':'Always'}}}}");
    const char *patch =
        J("{'metadata':{'labels':{'tier':null}},'spec':{'replicas':3,'template':{'spec':{"
          "'$setElementOrder/containers':[{'name':'sidecar'},{'name':'nginx'}],'containers':[{"
          "'command':['sleep','3600'],'image':'busybox','name':'sidecar'},{'$setElementOrder/"
          "env':[{'name':'A'},{'name':'C'}],'$setElementOrder/ports':[{'containerPort':80}],"
          "'env':[{'name':'C','value':'3'},{'$patch':'delete','name':'B'}],'image':'nginx:1.28',"
          "'name':'nginx','ports':[{'$patch':'delete','containerPort':443}]}]}}}}");
    const char *want =
        J("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{'app':"
          "'web'},'uid':'u'},'spec':{'replicas':3,'template':{'spec':{'containers':[{'command':["
          "'sleep','3600'],'image':'busybox','name':'sidecar'},{'name':'nginx','image':"
          "'nginx:1.28','env':[{'name':'A','value':'1'},{'name':'C','value':'3'}],'ports':[{"
          "'containerPort':80,'protocol':'TCP'}],'imagePullPolicy':'IfNotPresent'}],"
          "'restartPolicy':'Always'}}}}");
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_OK(reef_smp_apply("Deployment", live, strlen(live), patch, strlen(patch), &out, &err),
             &err);
    CHECK_STR(out.data, want);
    reef_buf_free(&out);
}

/* kubectl's client-side apply, as reef apply will run it: three-way patch from the last applied
 * manifest, the new manifest and the live object; the server applies it. */
struct cluster {
    char *live;    /* NULL before the first apply */
    char *applied; /* the last-applied manifest */
};

/* What the server adds to a Deployment on create: defaults, identity and status. */
static char *server_create(const char *manifest)
{
    const char *defaults =
        J("{'metadata':{'uid':'0b5e','resourceVersion':'7','generation':1},'spec':{"
          "'revisionHistoryLimit':10,'template':{'spec':{'restartPolicy':'Always','dnsPolicy':"
          "'ClusterFirst'}}},'status':{'replicas':0}}");
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_OK(reef_smp_apply("Deployment", manifest, strlen(manifest), defaults, strlen(defaults),
                            &out, &err),
             &err);
    return reef_buf_steal(&out);
}

/* One `apply`: returns the patch sent ("" for a create), and updates the cluster. */
static char *apply(struct cluster *cl, const char *manifest)
{
    if (!cl->live) {
        cl->live = server_create(manifest);
        free(cl->applied);
        cl->applied = strdup(manifest);
        return strdup("");
    }
    struct reef_buf patch = REEF_BUF_INIT, out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_OK(reef_smp_create_three_way("Deployment", cl->applied, strlen(cl->applied), manifest,
                                       strlen(manifest), cl->live, strlen(cl->live), &patch, &err),
             &err);
    if (strcmp(patch.data, "{}") != 0) {
        CHECK_OK(reef_smp_apply("Deployment", cl->live, strlen(cl->live), patch.data, patch.len,
                                &out, &err),
                 &err);
        free(cl->live);
        cl->live = reef_buf_steal(&out);
    }
    free(cl->applied);
    cl->applied = strdup(manifest);
    return reef_buf_steal(&patch);
}

#define V1                                                                                         \
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{'app':"        \
    "'web','tier':'fe'}},'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},"           \
    "'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'nginx',"       \
    "'image':'nginx:1.27','env':[{'name':'A','value':'1'},{'name':'B','value':'2'}],'ports':[{"    \
    "'containerPort':80},{'containerPort':443}]}]}}}}"
#define V2                                                                                         \
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{'app':"        \
    "'web'}},'spec':{'replicas':3,'selector':{'matchLabels':{'app':'web'}},'template':{"           \
    "'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{'name':'sidecar','image':"         \
    "'busybox','command':['sleep','3600']},{'name':'nginx','image':'nginx:1.28','env':[{"          \
    "'name':'A','value':'1'},{'name':'C','value':'3'}],'ports':[{'containerPort':80}]}]}}}}"

/* The live object must hold the manifest (and may hold more). */
static void check_live_has(const struct cluster *cl, const char *manifest)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    /* Applying the manifest as a patch to the live object changes nothing when it is there. */
    CHECK_OK(reef_smp_apply("Deployment", cl->live, strlen(cl->live), manifest, strlen(manifest),
                            &out, &err),
             &err);
    if (!json_same(out.data, cl->live))
        TEST_FAIL("live object lacks the manifest:\n  live %s\n  want %s", cl->live, manifest);
    reef_buf_free(&out);
}

static void test_apply_cycle(void)
{
    struct cluster cl = {0};
    char *p = apply(&cl, J(V1));
    CHECK_STR(p, "");
    free(p);
    check_live_has(&cl, J(V1));
    char *v1_live = strdup(cl.live);

    /* Re-applying the same manifest sends nothing: "unchanged". */
    p = apply(&cl, J(V1));
    CHECK_STR(p, "{}");
    free(p);

    /* v2 gives exactly kubectl's patch (kube-api.md, minus the annotation). */
    p = apply(&cl, J(V2));
    CHECK_STR(p, J("{'metadata':{'labels':{'tier':null}},'spec':{'replicas':3,'template':{"
                   "'spec':{'$setElementOrder/containers':[{'name':'sidecar'},{'name':'nginx'}],"
                   "'containers':[{'command':['sleep','3600'],'image':'busybox','name':"
                   "'sidecar'},{'$setElementOrder/env':[{'name':'A'},{'name':'C'}],"
                   "'$setElementOrder/ports':[{'containerPort':80}],'env':[{'name':'C','value':"
                   "'3'},{'$patch':'delete','name':'B'}],'image':'nginx:1.28','name':'nginx',"
                   "'ports':[{'$patch':'delete','containerPort':443}]}]}}}}"));
    free(p);
    check_live_has(&cl, J(V2));
    CHECK(strstr(cl.live, "\"tier\"") == NULL);
    CHECK(strstr(cl.live, "443") == NULL);
    CHECK(strstr(cl.live, "\"B\"") == NULL);
    /* Server-set fields survive. */
    CHECK(strstr(cl.live, "\"uid\":\"0b5e\"") != NULL);
    CHECK(strstr(cl.live, "\"dnsPolicy\":\"ClusterFirst\"") != NULL);

    p = apply(&cl, J(V2));
    CHECK_STR(p, "{}");
    free(p);

    /* Back to v1: the live object is the v1 object again, exactly. */
    p = apply(&cl, J(V1));
    CHECK(strcmp(p, "{}") != 0);
    free(p);
    if (!json_same(cl.live, v1_live))
        TEST_FAIL("revert:\n  got  %s\n  want %s", cl.live, v1_live);
    p = apply(&cl, J(V1));
    CHECK_STR(p, "{}");
    free(p);
    free(v1_live);
    free(cl.live);
    free(cl.applied);
}

/* One change at a time gives a patch of just that change. */
static void test_apply_single_changes(void)
{
    static const struct {
        const char *from, *to, *patch;
    } c[] = {
        {V1,
         "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{"
         "'app':'web','tier':'fe'}},'spec':{'replicas':2,'selector':{'matchLabels':{'app':"
         "'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{"
         "'name':'nginx','image':'nginx:1.27','env':[{'name':'A','value':'1'},{'name':'B',"
         "'value':'2'}],'ports':[{'containerPort':8080},{'containerPort':443}]}]}}}}",
         "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'nginx'}],"
         "'containers':[{'$setElementOrder/ports':[{'containerPort':8080},{'containerPort':443}"
         "],'name':'nginx','ports':[{'containerPort':8080},{'$patch':'delete','containerPort':"
         "80}]}]}}}}"},
        {V1,
         "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{"
         "'app':'web','tier':'fe'}},'spec':{'replicas':2,'selector':{'matchLabels':{'app':"
         "'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{"
         "'name':'nginx','image':'nginx:1.27','env':[{'name':'A','value':'9'},{'name':'B',"
         "'value':'2'}],'ports':[{'containerPort':80},{'containerPort':443}]}]}}}}",
         "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'nginx'}],"
         "'containers':[{'$setElementOrder/env':[{'name':'A'},{'name':'B'}],'env':[{'name':'A',"
         "'value':'9'}],'name':'nginx'}]}}}}"},
        {V1,
         "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','labels':{"
         "'app':'web','tier':'fe'}},'spec':{'replicas':2,'selector':{'matchLabels':{'app':"
         "'web'}},'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':[{"
         "'name':'nginx','image':'nginx:1.27','env':[{'name':'A','value':'1'},{'name':'B',"
         "'value':'2'}],'ports':[{'containerPort':80},{'containerPort':443}]}]}},"
         "'strategy':{'type':'Recreate'}}}",
         "{'spec':{'strategy':{'type':'Recreate'}}}"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++) {
        struct cluster cl = {0};
        free(apply(&cl, J(c[i].from)));
        char *p = apply(&cl, J(c[i].to));
        if (strcmp(p, J(c[i].patch)) != 0)
            TEST_FAIL("case %zu:\n  got  %s\n  want %s", i, p, J(c[i].patch));
        free(p);
        check_live_has(&cl, J(c[i].to));
        p = apply(&cl, J(c[i].to));
        CHECK_STR(p, "{}");
        free(p);
        /* and back */
        free(apply(&cl, J(c[i].from)));
        check_live_has(&cl, J(c[i].from));
        p = apply(&cl, J(c[i].from));
        CHECK_STR(p, "{}");
        free(p);
        free(cl.live);
        free(cl.applied);
    }
}

/* Switching the strategy type sends $retainKeys, which clears the old union member. */
static void test_apply_retain_keys(void)
{
    struct cluster cl = {0};
    const char *a = J("{'kind':'Deployment','spec':{'strategy':{'type':'RollingUpdate',"
                      "'rollingUpdate':{'maxSurge':1}}}}");
    const char *b = J("{'kind':'Deployment','spec':{'strategy':{'type':'Recreate'}}}");
    free(apply(&cl, a));
    char *p = apply(&cl, b);
    CHECK_STR(p, J("{'spec':{'strategy':{'$retainKeys':['type'],'rollingUpdate':null,'type':"
                   "'Recreate'}}}"));
    free(p);
    CHECK(strstr(cl.live, "rollingUpdate") == NULL);
    CHECK(strstr(cl.live, "Recreate") != NULL);
    free(cl.live);
    free(cl.applied);
}

/* Fields set only by others (not in last-applied) are left alone; removed list items of
 * scalars merge lists use the parallel deletion list. */
static void test_three_way_details(void)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    const char *orig = J("{'metadata':{'finalizers':['a','b'],'labels':{'x':'1'}}}");
    const char *mod = J("{'metadata':{'finalizers':['a'],'labels':{'x':'1'}}}");
    const char *cur = J("{'metadata':{'finalizers':['a','b','c'],'labels':{'x':'1','y':'2'}}}");
    CHECK_OK(reef_smp_create_three_way("Pod", orig, strlen(orig), mod, strlen(mod), cur,
                                       strlen(cur), &out, &err),
             &err);
    CHECK_STR(out.data, J("{'metadata':{'$deleteFromPrimitiveList/finalizers':['b'],"
                          "'$setElementOrder/finalizers':['a']}}"));
    struct reef_buf res = REEF_BUF_INIT;
    CHECK_OK(reef_smp_apply("Pod", cur, strlen(cur), out.data, out.len, &res, &err), &err);
    CHECK_STR(res.data, J("{'metadata':{'finalizers':['a','c'],'labels':{'x':'1','y':'2'}}}"));
    reef_buf_free(&res);

    /* No original (never applied): nothing is deleted, the order is still set. */
    reef_buf_reset(&out);
    CHECK_OK(
        reef_smp_create_three_way("Pod", NULL, 0, mod, strlen(mod), cur, strlen(cur), &out, &err),
        &err);
    CHECK_STR(out.data, J("{'metadata':{'$setElementOrder/finalizers':['a']}}"));

    /* Two-way. */
    reef_buf_reset(&out);
    CHECK_OK(reef_smp_create_two_way("Pod", orig, strlen(orig), mod, strlen(mod), &out, &err),
             &err);
    CHECK_STR(out.data, J("{'metadata':{'$deleteFromPrimitiveList/finalizers':['b'],"
                          "'$setElementOrder/finalizers':['a']}}"));

    /* Deletions are listed in the order of fmt's %v of their keys: 1.2e+06 before 1e+07 (as plain
     * numbers 10000000 would sort first). */
    reef_buf_reset(&out);
    const char *po = J("{'spec':{'containers':[{'name':'c','ports':[{'containerPort':10000000},"
                       "{'containerPort':1200000}]}]}}");
    const char *pm = J("{'spec':{'containers':[{'name':'c','ports':[]}]}}");
    CHECK_OK(reef_smp_create_two_way("Pod", po, strlen(po), pm, strlen(pm), &out, &err), &err);
    CHECK_STR(out.data, J("{'spec':{'$setElementOrder/containers':[{'name':'c'}],'containers':[{"
                          "'name':'c','ports':[{'$patch':'delete','containerPort':1200000},{"
                          "'$patch':'delete','containerPort':10000000}]}]}}"));

    /* Errors. */
    reef_buf_reset(&out);
    CHECK_INT(reef_smp_create_three_way("Pod", "{", 1, "{}", 2, "{}", 2, &out, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "original") != NULL);
    CHECK_INT(reef_smp_create_three_way("Pod", "{}", 2, "[]", 2, "{}", 2, &out, &err), ==, -EINVAL);
    CHECK_INT(reef_smp_create_three_way("Blob", "{}", 2, "{}", 2, "{}", 2, &out, &err), ==,
              -EOPNOTSUPP);
    const char *bad = J("{'spec':{'containers':[{'image':'x'}]}}");
    const char *good = J("{'spec':{'containers':[{'name':'a'}]}}");
    CHECK_INT(reef_smp_create_three_way("Pod", good, strlen(good), bad, strlen(bad), good,
                                        strlen(good), &out, &err),
              ==, -EINVAL);
    CHECK(strstr(err.msg, "does not contain declared merge key: name") != NULL);
    CHECK(out.len == 0);
    reef_buf_free(&out);
}

/* Service ports reordered and added, the kube-api.md Service example. */
static void test_apply_service(void)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    const char *orig = J("{'kind':'Service','spec':{'ports':[{'port':80,'targetPort':8080}]}}");
    const char *mod = J("{'kind':'Service','spec':{'ports':[{'name':'https','port':443,"
                        "'targetPort':443},{'port':80,'targetPort':9090}]}}");
    const char *cur = J("{'kind':'Service','spec':{'clusterIP':'10.43.0.10','ports':[{'port':80,"
                        "'protocol':'TCP','targetPort':8080}],'type':'ClusterIP'}}");
    CHECK_OK(reef_smp_create_three_way("Service", orig, strlen(orig), mod, strlen(mod), cur,
                                       strlen(cur), &out, &err),
             &err);
    CHECK_STR(out.data, J("{'spec':{'$setElementOrder/ports':[{'port':443},{'port':80}],'ports':"
                          "[{'name':'https','port':443,'targetPort':443},{'port':80,'targetPort'"
                          ":9090}]}}"));
    reef_buf_free(&out);
}

/* A container with 3000 env vars (far beyond real manifests): apply and three-way stay fast. */
static void test_large_lists(void)
{
    struct reef_buf a = REEF_BUF_INIT, b = REEF_BUF_INIT, out = REEF_BUF_INIT, res = REEF_BUF_INIT;
    struct reef_err err = {0};
    for (int v = 0; v < 2; v++) {
        struct reef_buf *m = v ? &b : &a;
        reef_buf_puts(m, "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\","
                         "\"env\":[");
        for (int i = 0; i < 3000; i++)
            reef_buf_printf(m, "%s{\"name\":\"V%d\",\"value\":\"%d\"}", i ? "," : "",
                            v ? 2999 - i : i, v && i % 7 == 0 ? -i : i);
        reef_buf_puts(m, "]}]}}}}");
    }
    CHECK_OK(reef_smp_create_three_way("Deployment", a.data, a.len, b.data, b.len, a.data, a.len,
                                       &out, &err),
             &err);
    CHECK_OK(reef_smp_apply("Deployment", a.data, a.len, out.data, out.len, &res, &err), &err);
    if (!json_same(res.data, b.data))
        TEST_FAIL("large three-way did not reach the manifest");
    reef_buf_free(&a);
    reef_buf_free(&b);
    reef_buf_free(&out);
    reef_buf_free(&res);
}

/* kubectl apply's own bookkeeping: the annotation, then apply / re-apply through it. */
static void test_last_applied(void)
{
    struct reef_buf ann = REEF_BUF_INIT, mod = REEF_BUF_INIT;
    struct reef_err err = {0};
    const char *m = J("{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'c','namespace':"
                      "'default'},'data':{'b':'2','a':'1'}}");
    CHECK_OK(reef_smp_last_applied(m, strlen(m), &ann, &mod, &err), &err);
    CHECK_STR(ann.data, J("{'apiVersion':'v1','data':{'a':'1','b':'2'},'kind':'ConfigMap',"
                          "'metadata':{'annotations':{},'name':'c','namespace':'default'}}\n"));
    CHECK_STR(mod.data,
              J("{'apiVersion':'v1','data':{'a':'1','b':'2'},'kind':'ConfigMap','metadata':{"
                "'annotations':{'kubectl.kubernetes.io/last-applied-configuration':'{\\'apiVersion"
                "\\':\\'v1\\',\\'data\\':{\\'a\\':\\'1\\',\\'b\\':\\'2\\'},\\'kind\\':"
                "\\'ConfigMap\\',\\'metadata\\':{\\'annotations\\':{},\\'name\\':\\'c\\',"
                "\\'namespace\\':\\'default\\'}}\\n'},'name':'c','namespace':'default'}}"));
    /* An existing annotation is replaced, not nested. */
    struct reef_buf again = REEF_BUF_INIT;
    CHECK_OK(reef_smp_last_applied(mod.data, mod.len, NULL, &again, &err), &err);
    CHECK_STR(again.data, mod.data);

    /* Apply, re-apply: unchanged; the live object's annotation is the next original. */
    struct reef_buf patch = REEF_BUF_INIT;
    const char *live = mod.data;
    CHECK_OK(reef_smp_create_three_way("ConfigMap", ann.data, ann.len, again.data, again.len, live,
                                       strlen(live), &patch, &err),
             &err);
    CHECK_STR(patch.data, "{}");
    reef_buf_reset(&patch);
    const char *m2 = J("{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'c','namespace':"
                       "'default'},'data':{'a':'1'}}");
    struct reef_buf mod2 = REEF_BUF_INIT;
    CHECK_OK(reef_smp_last_applied(m2, strlen(m2), NULL, &mod2, &err), &err);
    CHECK_OK(reef_smp_create_three_way("ConfigMap", ann.data, ann.len, mod2.data, mod2.len, live,
                                       strlen(live), &patch, &err),
             &err);
    CHECK(strstr(patch.data, "\"data\":{\"b\":null}") != NULL);
    CHECK(strstr(patch.data, "last-applied-configuration") != NULL);

    CHECK_INT(reef_smp_last_applied("[]", 2, NULL, NULL, &err), ==, -EINVAL);
    CHECK_INT(reef_smp_last_applied("", 0, NULL, NULL, &err), ==, -EINVAL);
    reef_buf_free(&ann);
    reef_buf_free(&mod);
    reef_buf_free(&mod2);
    reef_buf_free(&again);
    reef_buf_free(&patch);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_maps_and_scalars);
    TEST_RUN(test_merge_lists);
    TEST_RUN(test_primitive_lists);
    TEST_RUN(test_retain_keys);
    TEST_RUN(test_errors);
    TEST_RUN(test_kubectl_apply_patch_body);
    TEST_RUN(test_apply_cycle);
    TEST_RUN(test_apply_single_changes);
    TEST_RUN(test_apply_retain_keys);
    TEST_RUN(test_three_way_details);
    TEST_RUN(test_apply_service);
    TEST_RUN(test_large_lists);
    TEST_RUN(test_last_applied);
    return test_done();
}
