/* A qemu TCG plugin that counts the guest instructions a program executes, all threads together,
 * and prints the total on stderr at exit: "insn_count: N". Debian's qemu-user (7.2) can load TCG
 * plugins (`-plugin`) but ships none, so this one is built here (systemd/qemu-insn/build.sh).
 * It declares the few functions of qemu's plugin API (version 1, qemu 7.x-8.x) it uses itself,
 * so that it needs no qemu headers.
 *
 *   qemu-aarch64 -plugin ./libinsn_count.so -L /usr/aarch64-linux-gnu -cpu cortex-a76 PROGRAM...
 *
 * An instruction count is a proxy for work, not a time: it ignores how many cycles an instruction
 * takes, memory stalls, and how many values one SIMD instruction handles. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };

extern void qemu_plugin_register_vcpu_tb_trans_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
extern void qemu_plugin_register_vcpu_tb_exec_cb(
    struct qemu_plugin_tb *tb, void (*cb)(unsigned int vcpu_index, void *userdata),
    enum qemu_plugin_cb_flags flags, void *userdata);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(
    qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t id, void *userdata), void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;

/* Each translated block adds its instruction count when it runs: atomically, because qemu-user
 * runs the program's threads in parallel. */
static void tb_exec(unsigned int vcpu_index, void *userdata) {
    (void)vcpu_index;
    __atomic_fetch_add(&executed, (uint64_t)(uintptr_t)userdata, __ATOMIC_RELAXED);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    /* stderr, not qemu_plugin_outs: that one writes only with `-d plugin` */
    fprintf(stderr, "insn_count: %" PRIu64 "\n", __atomic_load_n(&executed, __ATOMIC_RELAXED));
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info, int argc,
                                                               char **argv) {
    (void)info;
    (void)argc;
    (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
