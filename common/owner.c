/* owner: see owner.h. */
#define _GNU_SOURCE /* struct ucred, for SO_PEERCRED */
#include "owner.h"

#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lang.h"
#include "xalloc.h"

uid_t owner_of_data_dir(const char *data_dir)
{
    struct stat st;
    if (stat(data_dir, &st) == 0)
        return st.st_uid;
    char *copy = xstrdup(data_dir);
    uid_t uid = stat(dirname(copy), &st) == 0 ? st.st_uid : (uid_t)-1;
    free(copy);
    return uid;
}

/* A word a shell takes as it is: safe ASCII punctuation, letters, digits and UTF-8
 * (Chinese names). */
static bool shell_plain(const char *a)
{
    if (*a == '\0')
        return false;
    for (; *a; a++)
        if (!((unsigned char)*a >= 0x80 || strchr("-_./:=,@%+", *a) || (*a >= '0' && *a <= '9') ||
              (*a >= 'a' && *a <= 'z') || (*a >= 'A' && *a <= 'Z')))
            return false;
    return true;
}

/* argv as it would be typed again, quoting what the shell would otherwise split. */
static void print_command(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (shell_plain(a)) {
            fprintf(stderr, " %s", a);
            continue;
        }
        fputs(" '", stderr);
        for (; *a; a++) {
            if (*a == '\'')
                fputs("'\\''", stderr);
            else
                fputc(*a, stderr);
        }
        fputc('\'', stderr);
    }
}

static void user_name(uid_t uid, char *buf, size_t size)
{
    struct passwd *pw = getpwuid(uid);
    if (pw)
        snprintf(buf, size, "%s", pw->pw_name);
    else
        snprintf(buf, size, "#%u", (unsigned)uid);
}

bool owner_check(const char *data_dir, int argc, char **argv)
{
    if (geteuid() != 0 || !data_dir)
        return true;
    uid_t uid = owner_of_data_dir(data_dir);
    if (uid == 0 || uid == (uid_t)-1)
        return true;
    char name[32];
    user_name(uid, name, sizeof(name));
    fprintf(stderr,
            TR("错误: 数据目录 %s 属于用户 %s;root 在其中写入的文件,该用户的服务将无法读取。"
               "请以该用户运行:\n  runuser -u %s --",
               "error: the data directory %s belongs to user %s; files root wrote there would be "
               "unreadable to that user's service. Run it as that user:\n  runuser -u %s --"),
            data_dir, name, name);
    print_command(argc, argv);
    fputc('\n', stderr);
    return false;
}

bool owner_dir_private(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return true; /* missing: the caller's own open says so, with its own words */
    char owner[32], me[32];
    user_name(st.st_uid, owner, sizeof(owner));
    user_name(geteuid(), me, sizeof(me));
    if (st.st_uid != geteuid()) {
        fprintf(stderr,
                TR("错误: 数据目录 %s 属于用户 %s,而本进程以用户 %s 运行。请以 %s 运行,"
                   "或改变属主: chown -R %s %s\n",
                   "error: the data directory %s belongs to user %s, and this process runs as "
                   "%s. Run it as %s, or change the owner: chown -R %s %s\n"),
                dir, owner, me, owner, me, dir);
        return false;
    }
    if (st.st_mode & 077) {
        fprintf(stderr,
                TR("错误: 数据目录 %s 的权限为 %03o,其他用户可以进入(成员信息和密钥都在其中)。"
                   "请收紧: chmod 700 %s\n",
                   "error: the data directory %s has mode %03o: other users can enter it (it "
                   "holds the members and the keys). Close it: chmod 700 %s\n"),
                dir, (unsigned)(st.st_mode & 0777), dir);
        return false;
    }
    return true;
}

bool owner_peer_allowed(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    return cred.uid == geteuid() || cred.uid == 0;
}
